"""Unit tests of the EPP client's retries (epp.Session.command), against a scripted registry:
what a registry may do to any command (2400, a session it ends, a dropped connection, a login
refused for the session limit) is handled by sending the command again, in the same session or
after a new login, at most epp.ATTEMPTS times; a refusal reaches the caller at once.

Run by harness/harness/tests/pdns_example.rs; by hand: python3 test_epp.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import epp  # noqa: E402  (the module under test, next to this file)


class Closed:
    """Stands for the TLS socket: only closing it is observed."""

    def __init__(self, log):
        self.log = log

    def close(self):
        self.log.append("close")


class Scripted(epp.Session):
    """A Session whose transport plays a script: each login and each command takes the next
    outcome of its list (None: success; an exception: raised), and every step is logged."""

    def __init__(self, logins, commands):
        self.logins, self.commands, self.log = list(logins), list(commands), []
        epp.Session.__init__(self, "127.0.0.1", 700, "ca", "cert", "key", "registrar-b", "pw")

    def _connect(self):
        self.sock = Closed(self.log)
        self.log.append("login")
        outcome = self.logins.pop(0) if self.logins else None
        if outcome is not None:
            raise outcome

    def _exchange(self, body, extension, ok):
        self.log.append(body)
        outcome = self.commands.pop(0)
        if outcome is not None:
            raise outcome
        return 1000, None


def refused(code):
    return epp.EppError(code, "scripted")


class Retries(unittest.TestCase):
    def setUp(self):
        self.slept = []
        self.sleep, epp.time.sleep = epp.time.sleep, self.slept.append

    def tearDown(self):
        epp.time.sleep = self.sleep

    def test_2400_is_sent_again_in_the_same_session(self):
        s = Scripted([], [refused(2400), refused(2400), None])
        self.assertEqual(s.command("<info/>"), (1000, None))
        self.assertEqual(s.log, ["login", "<info/>", "<info/>", "<info/>"])
        self.assertEqual(self.slept, [0.05, 0.1])

    def test_a_dropped_connection_is_logged_in_again_and_the_command_sent_once_more(self):
        s = Scripted([], [ConnectionError("the registry closed the connection"), None])
        self.assertEqual(s.command("<poll/>"), (1000, None))
        self.assertEqual(s.log, ["login", "<poll/>", "close", "login", "<poll/>"])

    def test_a_session_the_registry_ended_is_replaced(self):
        for code in (2500, 2501, 2502):
            s = Scripted([], [refused(code), None])
            s.command("<check/>")
            self.assertEqual(s.log, ["login", "<check/>", "close", "login", "<check/>"], code)

    def test_a_login_refused_for_the_session_limit_is_tried_again(self):
        # The first login at start, then the connection drops; the new login is refused with
        # 2502 twice (the old session still counts), then the command goes through.
        s = Scripted([None, refused(2502), refused(2502), None],
                     [OSError("connection reset"), None])
        self.assertEqual(s.command("<update/>"), (1000, None))
        self.assertEqual(s.log, ["login", "<update/>", "close", "login", "close", "login",
                                 "close", "login", "<update/>"])

    def test_a_login_refused_at_start_is_tried_again(self):
        s = Scripted([refused(2502), refused(2400), None], [None])
        self.assertEqual(s.log, ["login", "close", "login", "close", "login"])
        s.command("<info/>")

    def test_after_attempts_tries_the_caller_hears_unavailable(self):
        s = Scripted([], [refused(2400)] * epp.ATTEMPTS)
        with self.assertRaises(epp.EppUnavailable) as e:
            s.command("<transfer/>")
        self.assertIn("after %d tries" % epp.ATTEMPTS, str(e.exception))
        self.assertEqual(s.log.count("<transfer/>"), epp.ATTEMPTS)
        self.assertEqual(epp.ATTEMPTS, 6)
        # 50 ms doubling, at most a second, and no wait after the last try.
        self.assertEqual(self.slept, [0.05, 0.1, 0.2, 0.4, 0.8])

    def test_a_refusal_reaches_the_caller_at_once(self):
        s = Scripted([], [refused(2303)])
        with self.assertRaises(epp.EppError) as e:
            s.command("<info/>")
        self.assertEqual(e.exception.code, 2303)
        self.assertEqual(s.log, ["login", "<info/>"])

    def test_a_wrong_password_is_not_tried_again(self):
        with self.assertRaises(epp.EppError) as e:
            Scripted([refused(2200)], [])
        self.assertEqual(e.exception.code, 2200)

    def test_an_unusable_configuration_is_not_tried_again(self):
        with self.assertRaises(epp.EppConfigError):
            Scripted([epp.EppConfigError("cannot load the EPP CA ca")], [])


if __name__ == "__main__":
    unittest.main()
