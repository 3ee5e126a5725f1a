"""Shared helpers of the byte-level conformance tests: a broker per test, raw connections, and the
two ways a server must refuse what it receives (MQTT 5: CONNACK / DISCONNECT with the reason
code the spec names, then the close; MQTT 3.1.1: the close, or a CONNACK return code where the
3.1.1 text names one)."""

import mqtt_wire as w
from tollgate_fixture import BrokerTestCase

MALFORMED = 0x81
PROTOCOL_ERROR = 0x82


class ConformanceCase(BrokerTestCase):
    def raw(self):
        r = w.RawClient(self.broker.port())
        self.on_teardown(r.close)
        return r

    def connected(self, version, client_id=None, **kw):
        r = self.raw()
        r.connect(client_id or "conf-v%d-%s" % (version, self.id().rsplit(".", 1)[-1][:40]), version=version, **kw)
        return r

    def assert_connect_refused(self, raw, version, v5_codes, v3_code=None):
        """The reply to a bad CONNECT. v5: CONNACK with a reason in v5_codes, then the close.
        3.1.1: CONNACK v3_code then the close when given, else the close with no packet."""
        if version == 5:
            p = raw.expect(w.CONNACK)
            self.assertIn(p.body[1], v5_codes, "CONNACK reason 0x%02x, expected one of %s" %
                          (p.body[1], [hex(c) for c in v5_codes]))
            raw.expect_closed()
        elif v3_code is not None:
            p = raw.expect(w.CONNACK)
            self.assertEqual(p.body[1], v3_code)
            raw.expect_closed()
        else:
            raw.expect_closed()

    def assert_disconnected(self, raw, version, v5_codes):
        """The reply to a bad packet on an established connection. v5: DISCONNECT with a reason in
        v5_codes, then the close. 3.1.1: the close, with no packet."""
        if version == 5:
            p = raw.read_packet()
            self.assertIsNotNone(p, "closed without DISCONNECT (MQTT 5 wants the reason code)")
            self.assertEqual(p.type, w.DISCONNECT, "expected DISCONNECT, got %r" % p)
            reason = p.body[0] if p.body else 0
            self.assertIn(reason, v5_codes, "DISCONNECT reason 0x%02x, expected one of %s" %
                          (reason, [hex(c) for c in v5_codes]))
        raw.expect_closed()

    def assert_still_works(self, raw):
        """The connection is alive: PINGREQ gets PINGRESP."""
        raw.send(b"\xc0\x00")
        raw.expect(w.PINGRESP)


def for_both_versions(cls, name, fn):
    """Adds test_<name>_v311 and test_<name>_v5 calling fn(self, version)."""
    setattr(cls, "test_%s_v311" % name, lambda self: fn(self, 4))
    setattr(cls, "test_%s_v5" % name, lambda self: fn(self, 5))
