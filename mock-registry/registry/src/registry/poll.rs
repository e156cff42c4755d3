//! Per-registrar poll queues (RFC 5730 §2.9.2.3): FIFO, `req` shows the oldest message until
//! it is acknowledged, `ack` removes exactly the message named. Queues belong to the registry,
//! not to sessions, so messages survive disconnects.

use jiff::Timestamp;

use super::refusal::{Area, Refusal};
use super::{Outcome, Registry, Reply, Services};
use epp::message::{MsgQ, ResData, ResponseExtension, ResultValue};
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
    /// Response extensions, e.g. a key relay receipt.
    pub extensions: Vec<ResponseExtension>,
}

impl Registry {
    /// The oldest message. An extension the session did not announce at login is returned in
    /// the result's `<extValue>` with the reason `URI not in login services` (RFC 9038 §6:
    /// messages are queued before the server knows the session's services, and an error
    /// would make the message a poison message).
    pub(super) fn poll_req(&mut self, cl_id: &str, services: &Services) -> Outcome {
        let queue = self.queues.entry(cl_id.to_string()).or_default();
        let Some(first) = queue.front() else {
            return Ok(Reply {
                code: Some(ResultCode::SuccessNoMessages),
                ..Reply::default()
            });
        };
        let (extensions, unhandled): (Vec<ResponseExtension>, Vec<ResponseExtension>) = first
            .extensions
            .iter()
            .cloned()
            .partition(|x| services.has_ext(x.uri()));
        let values = unhandled
            .iter()
            .map(|x| ResultValue::ExtValue {
                value: x.to_element(),
                reason: Text::new(format!("{} not in login services", x.uri())),
            })
            .collect();
        Ok(Reply {
            code: Some(ResultCode::SuccessAckToDequeue),
            msg_q: Some(MsgQ {
                count: queue.len() as u64,
                id: first.id.to_string(),
                q_date: Some(first.q_date),
                msg: Some(Text::new(first.text.clone())),
            }),
            res_data: first.payload.clone(),
            extensions,
            values,
        })
    }

    pub(super) fn poll_ack(&mut self, cl_id: &str, msg_id: &str, now: Timestamp) -> Outcome {
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
        let removed = queue.remove(pos).map(|m| m.id);
        let count = queue.len() as u64;
        if let Some(id) = removed {
            self.relay_acknowledged(cl_id, id, now);
        }
        Ok(Reply {
            msg_q: Some(MsgQ {
                count,
                id: msg_id.to_string(),
                q_date: None,
                msg: None,
            }),
            ..Reply::ok()
        })
    }
}
