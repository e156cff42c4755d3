//! Per-registrar poll queues (RFC 5730 §2.9.2.3): FIFO, `req` shows the oldest message until
//! it is acknowledged, `ack` removes exactly the message named. Queues belong to the registry,
//! not to sessions, so messages survive disconnects.

use jiff::Timestamp;

use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, Reply};
use epp::message::{MsgQ, ResData};
use epp::{ResultCode, Text};

/// A queued service message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollMessage {
    /// Id, unique in the registry.
    pub id: u64,
    /// When it was queued.
    pub q_date: Timestamp,
    /// Human-readable text (SIDN: starts with a four-digit SIDN code).
    pub text: String,
    /// Response data, e.g. `keyrelay:infData` or SIDN's `pollData`.
    pub payload: Option<ResData>,
}

impl Registry {
    pub(super) fn poll_req(&mut self, cl_id: &str) -> Outcome {
        let queue = self.queues.entry(cl_id.to_string()).or_default();
        let Some(first) = queue.front() else {
            return Ok(Reply {
                code: Some(ResultCode::SuccessNoMessages),
                ..Reply::default()
            });
        };
        Ok(Reply {
            code: Some(ResultCode::SuccessAckToDequeue),
            msg_q: Some(MsgQ {
                count: queue.len() as u64,
                id: first.id.to_string(),
                q_date: Some(first.q_date),
                msg: Some(Text::new(first.text.clone())),
            }),
            res_data: first.payload.clone(),
            extensions: Vec::new(),
        })
    }

    pub(super) fn poll_ack(&mut self, cl_id: &str, msg_id: &str) -> Outcome {
        let queue = self.queues.entry(cl_id.to_string()).or_default();
        // Only this registrar's queue is searched, so another registrar's id is simply
        // unknown here: the answer does not reveal that it exists elsewhere.
        let pos = msg_id
            .parse::<u64>()
            .ok()
            .and_then(|id| queue.iter().position(|m| m.id == id))
            .ok_or_else(|| {
                Refusal::new(
                    ResultCode::ObjectDoesNotExist,
                    Area::Queue,
                    format!("no message {msg_id} in your queue"),
                )
                .field("msgID")
            })?;
        queue.remove(pos);
        Ok(Reply {
            msg_q: Some(MsgQ {
                count: queue.len() as u64,
                id: msg_id.to_string(),
                q_date: None,
                msg: None,
            }),
            ..Reply::ok()
        })
    }
}
