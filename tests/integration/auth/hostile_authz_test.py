"""Hostile authorization inputs through the real tollgate (issue 5, docs/auth.md "Scopes to topics";
docs/hostile-inputs-coverage.md maps each case to /work/shared/research/hostile-inputs.md, "HI #n").

Tokens come from the static ES256 issuer of session_attacks_test.py (this script holds its key), so
each test picks exactly the scopes it attacks: placeholders filled from a client id or user name
that is itself percent-encoded or a wildcard (CVE-2017-7650), percent-encoding tricks in scopes,
`$share` and `$SYS` edges, topic aliases used to dodge a denial, a will with QoS 2 and RETAIN
outside the scope, subscription identifiers, very long and very deep topics. Each must get the
reason code the specification names, and the broker keeps serving others.
"""

import mqtt_wire as w
from mqtt_clients import QUIET, PahoClient
from session_attacks_test import AttackBase
from session_authz_test import suback_codes
from tollgate_fixture import main

NOT_AUTHORIZED = 0x87
V311_SUBACK_FAILURE = 0x80
TOPIC_FILTER_INVALID = 0x8F
PROTOCOL_ERROR = 0x82
MALFORMED = 0x81
TOPIC_NAME_INVALID = 0x90
TOPIC_ALIAS_INVALID = 0x94


class AuthzAttackBase(AttackBase):
    def token_for(self, scope, **claims):
        return self.signed_by_test_issuer(self.make_claims(scope=scope, **claims))

    def connect_scoped(self, scope, client_id, version=5, username="oauth2", props=b"", **kw):
        tok = self.token_for(scope)
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect(client_id, version=version, username=username, password=tok.encode(), props=props,
                         **kw))
        ack = c.expect(w.CONNACK)
        self.assertEqual(w.connack_reason(ack), 0)
        return c

    def watcher(self, *filters):
        """A paho MQTT 5 client with mqtt:all:# that subscribed to `filters`."""
        p = PahoClient(self.broker.port(), version=5)
        p.client.username_pw_set("oauth2", self.token_for("mqtt:all:# mqtt:sub:$SYS/#"))
        self.on_teardown(p.close)
        p.connect()
        for f in filters:
            self.assertEqual(p.subscribe(f, qos=1), [1])
        return p

    def suback(self, c, filters, version=5, packet_id=1, props=b""):
        c.send(w.subscribe(packet_id, [(f, 1) for f in filters], version=version, props=props))
        return suback_codes(c.expect(w.SUBACK), version)

    def pub_code(self, c, topic, packet_id, props=b""):
        c.send(w.publish(topic, b"x", qos=1, packet_id=packet_id, version=5, props=props))
        p = c.expect(w.PUBACK)
        return p.body[2] if len(p.body) > 2 else 0


class PlaceholderInjection(AuthzAttackBase):
    def test_client_id_that_is_percent_encoded_stays_literal_CVE_2017_7650_HI_81(self):
        # docs/auth.md: a scope is percent-decoded, then placeholders are substituted; the value of
        # a placeholder is never decoded again, so a client id "%23" is the topic level "%23", not
        # "#" (else any client could name itself "%23" and widen dev/{client_id} to dev/#).
        for cid, wildcard_sub, literal in [("%23", "dev/#", "dev/%23"), ("%2B", "dev/+", "dev/%2B"),
                                           ("%252B", "dev/%2B", "dev/%252B")]:
            with self.subTest(client_id=cid):
                c = self.connect_scoped("mqtt:sub:dev/{client_id}", cid)
                self.assertEqual(self.suback(c, [wildcard_sub, literal]), [NOT_AUTHORIZED, 1])
        c = self.connect_scoped("mqtt:pub:dev/{client_id}", "a%2Fb")
        self.assertEqual(self.pub_code(c, "dev/a/b", 1), NOT_AUTHORIZED)
        self.assertIn(self.pub_code(c, "dev/a%2Fb", 2), (0x00, 0x10))
        self.assert_still_serving()

    def test_wildcard_or_slash_client_id_drops_the_grant_CVE_2017_7650_HI_81(self):
        # docs/auth.md: a value containing +, # or / drops the grant.
        for cid, probe in [("#", "dev/#"), ("+", "dev/+"), ("a/b", "dev/a/b")]:
            with self.subTest(client_id=cid):
                c = self.connect_scoped("mqtt:sub:dev/{client_id} mqtt:pub:dev/{client_id}", cid)
                self.assertEqual(self.suback(c, [probe, "dev/x"]), [NOT_AUTHORIZED, NOT_AUTHORIZED])
                self.assertEqual(self.pub_code(c, "dev/a/b", 1), NOT_AUTHORIZED)
        self.assert_still_serving()

    def test_username_placeholder_with_wildcards_or_encoding_HI_81(self):
        for username, wildcard, literal in [("%23", "u/#", "u/%23"), ("+", "u/+", None), ("a/b", "u/a/b", None)]:
            with self.subTest(username=username):
                c = self.connect_scoped("mqtt:sub:u/{username}", "user-" + str(len(literal or "")),
                                        username=username)
                want = [NOT_AUTHORIZED] + ([1] if literal else [])
                self.assertEqual(self.suback(c, [wildcard] + ([literal] if literal else [])), want)
        self.assert_still_serving()

    def test_assigned_client_identifier_fills_the_placeholder_MQTT_3_2_2_3_7(self):
        # An empty client id gets an Assigned Client Identifier (CONNACK property 0x12); {client_id}
        # is that identifier, never empty and never widened to dev/#.
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        tok = self.token_for("mqtt:sub:dev/{client_id}/#")
        c.send(w.connect("", version=5, username="oauth2", password=tok.encode()))
        ack = c.expect(w.CONNACK)
        self.assertEqual(w.connack_reason(ack), 0)
        props, _ = w.parse_properties(ack.body, 2)
        assigned = props[0x12][0].decode()
        self.assertTrue(assigned)
        self.assertEqual(self.suback(c, ["dev/%s/#" % assigned, "dev/#", "dev//#"]),
                         [1, NOT_AUTHORIZED, NOT_AUTHORIZED])
        self.assert_still_serving()

    def test_v311_client_id_hash_cannot_widen_MQTT_3_9_3_CVE_2017_7650(self):
        c = self.connect_scoped("mqtt:sub:dev/{client_id}/#", "#", version=4)
        self.assertEqual(self.suback(c, ["dev/#", "#"], version=4), [V311_SUBACK_FAILURE, V311_SUBACK_FAILURE])
        self.assert_still_serving()


class PercentEncodingTricks(AuthzAttackBase):
    def test_encoded_bytes_that_are_no_topic_drop_the_grant_RFC6749_3_3_MQTT_4_7_3(self):
        # %00 (NUL, [MQTT-4.7.3-2]), overlong UTF-8 %C0%AF, a lone surrogate %ED%A0%80, bad
        # escapes: each such grant is dropped, never truncated into something wider.
        scope = " ".join(["mqtt:sub:a/%00b", "mqtt:sub:b/%C0%AF", "mqtt:sub:c/%ED%A0%80", "mqtt:sub:d/%zz",
                          "mqtt:sub:e/%2", "mqtt:sub:f/%"])
        c = self.connect_scoped(scope, "pct-bad")
        self.assertEqual(self.suback(c, ["a/#", "a", "b/#", "c/#", "d/#", "e/#", "f/#", "#"]), [NOT_AUTHORIZED] * 8)
        self.assert_still_serving()

    def test_double_encoding_is_decoded_once_RFC3986_2_4(self):
        c = self.connect_scoped("mqtt:sub:x/%2523 mqtt:sub:y/%252B/z", "pct-double")
        self.assertEqual(self.suback(c, ["x/#", "x/%23", "y/+/z", "y/a/z", "y/%2B/z"]),
                         [NOT_AUTHORIZED, 1, NOT_AUTHORIZED, NOT_AUTHORIZED, 1])
        self.assert_still_serving()

    def test_encoded_share_prefix_or_leading_wildcard_is_no_sys_grant_MQTT_4_7_2_1(self):
        # "%24share/g/x" decodes to a $share filter (not allowed as a grant); "%23" to "#", which
        # never matches $SYS [MQTT-4.7.2-1].
        c = self.connect_scoped("mqtt:sub:%24share/g/x mqtt:sub:%23", "pct-share")
        self.assertEqual(self.suback(c, ["$share/g/x", "x", "$SYS/#", "$SYS/x", "$share/g/$SYS/#"]),
                         [1, 1, NOT_AUTHORIZED, NOT_AUTHORIZED, NOT_AUTHORIZED])
        self.assert_still_serving()


class ShareAndSys(AuthzAttackBase):
    def test_share_of_sys_needs_a_sys_grant_MQTT_4_8_2_MQTT_4_7_2_1_HI_82(self):
        c = self.connect_scoped("mqtt:all:#", "share-sys")
        self.assertEqual(self.suback(c, ["$share/g/$SYS/#", "$share/g/#", "$share/g/$SYS/x", "$SYS/#", "+/#"]),
                         [NOT_AUTHORIZED, 1, NOT_AUTHORIZED, NOT_AUTHORIZED, 1])
        c2 = self.connect_scoped("mqtt:sub:$SYS/#", "share-sys-granted")
        self.assertEqual(self.suback(c2, ["$share/g/$SYS/#", "$SYS/x"]), [1, 1])
        self.assert_still_serving()

    def test_malformed_share_filters_MQTT_4_8_2_1_HI_38(self):
        # [MQTT-4.8.2-1], [MQTT-4.8.2-2]: the ShareName is at least one character, has no "/", "+"
        # or "#", and is followed by "/" and a Topic Filter. A malformed one is refused: SUBACK 0x8F
        # for that filter, or DISCONNECT 0x82 (Protocol Error) / 0x81 (Malformed Packet, a/#/b breaks
        # [MQTT-4.7.1-1]), never granted.
        for i, f in enumerate(["$share//x", "$share/g", "$share/g/", "$share/g+/x", "$share/#/x", "$share/g/a/#/b"]):
            with self.subTest(filter=f):
                c = self.connect_scoped("mqtt:all:#", "share-bad-%d" % i)
                c.send(w.subscribe(1, [(f, 1)], version=5))
                p = c.read_packet()
                self.assertIsNotNone(p)
                if p.type == w.SUBACK:
                    self.assertEqual(suback_codes(p, 5), [TOPIC_FILTER_INVALID])
                else:
                    self.assertEqual(p.type, w.DISCONNECT, p)
                    self.assertIn(p.body[0], (PROTOCOL_ERROR, MALFORMED), p)
                    c.expect_closed()
        c = self.connect_scoped("mqtt:all:#", "share-good")
        self.assertEqual(self.suback(c, ["$share/g/x"]), [1])
        self.assert_still_serving()

    def test_publish_to_dollar_topics_HI_32_HI_82(self):
        # mqtt:all:# grants no $-topic [MQTT-4.7.2-1]; the broker answers every client PUBLISH to a
        # $-topic deterministically (CVE-2018-12543): PUBACK 0x87 or 0x90 (Topic Name invalid,
        # "topics starting with $ are reserved"), never delivered, the connection kept.
        watch = self.watcher("#", "$SYS/#")
        c = self.connect_scoped("mqtt:all:#", "dollar-pub")
        for i, topic in enumerate(["$SYS/x", "$foo/bar", "$CONTROL/dynamic-security/v1", "$share/g/x", "$"]):
            self.assertIn(self.pub_code(c, topic, i + 1), (NOT_AUTHORIZED, TOPIC_NAME_INVALID), topic)
        self.assertIn(self.pub_code(c, "end", 9), (0x00, 0x10))
        self.assertEqual(watch.next_message().topic, "end")
        watch.expect_no_message(QUIET)
        self.assert_still_serving()


class TopicAliases(AuthzAttackBase):
    def alias_props(self, alias):
        return w.prop_u16(w.PROP_TOPIC_ALIAS, alias)

    def test_alias_remapped_to_a_denied_topic_stays_denied_MQTT_3_3_2_3_4(self):
        # [MQTT-3.3.2-*] §3.3.2.3.4: a PUBLISH with a topic and an alias (re)defines the mapping; a
        # later PUBLISH with only the alias uses the new topic. Authorization is on that topic.
        watch = self.watcher("#")
        c = self.connect_scoped("mqtt:pub:a/#", "alias-dodge")
        self.assertIn(self.pub_code(c, "a/ok", 1, self.alias_props(1)), (0x00, 0x10))
        self.assertIn(self.pub_code(c, "", 2, self.alias_props(1)), (0x00, 0x10))
        self.assertEqual(self.pub_code(c, "b/secret", 3, self.alias_props(1)), NOT_AUTHORIZED)
        self.assertEqual(self.pub_code(c, "", 4, self.alias_props(1)), NOT_AUTHORIZED)
        self.assertIn(self.pub_code(c, "a/end", 5), (0x00, 0x10))
        topics = [watch.next_message().topic for _ in range(3)]
        self.assertEqual(topics, ["a/ok", "a/ok", "a/end"])
        watch.expect_no_message(QUIET)
        self.assert_still_serving()

    def test_alias_after_reauth_narrowing_is_judged_by_the_new_token_MQTT_4_12_1(self):
        tok = self.token_for("mqtt:pub:a/#")
        narrow = self.token_for("mqtt:pub:a/y")
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect("alias-reauth", version=5, props=self.auth_props(tok)))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        self.assertIn(self.pub_code(c, "a/x", 1, self.alias_props(2)), (0x00, 0x10))
        c.send(w.packet(0xF0, bytes([0x19]) + w.properties(self.auth_props(narrow))))
        self.assertEqual(c.expect(w.AUTH).body[0], 0)
        self.assertEqual(self.pub_code(c, "", 2, self.alias_props(2)), NOT_AUTHORIZED)
        self.assert_still_serving()

    def test_alias_zero_over_maximum_or_unknown_MQTT_3_3_2_3_4_HI_33(self):
        # Alias 0 or above the Topic Alias Maximum the server sent: DISCONNECT 0x94 [MQTT-3.3.2-8,9];
        # an alias never defined with an empty topic: Protocol Error 0x82 (HI #33).
        for alias, reason in [(0, TOPIC_ALIAS_INVALID), (65535, TOPIC_ALIAS_INVALID), (7, PROTOCOL_ERROR)]:
            with self.subTest(alias=alias):
                c = self.connect_scoped("mqtt:pub:a/#", "alias-bad-%d" % alias)
                c.send(w.publish("" if reason == PROTOCOL_ERROR else "a/x", b"x", qos=1, packet_id=1, version=5,
                                 props=self.alias_props(alias)))
                c.expect_disconnect_or_close(5, reason)
        self.assert_still_serving()


class WillsAndIdentifiers(AuthzAttackBase):
    def test_will_qos2_retained_outside_scope_never_published_nor_retained_MQTT_3_1_2_8(self):
        watch = self.watcher("b/#", "a/#")
        c = self.connect_scoped("mqtt:pub:a/#", "will-q2r", will=("b/will", b"forbidden", 2, True))
        c.close()
        c2 = self.connect_scoped("mqtt:pub:a/#", "will-ctl", will=("a/will", b"allowed", 2, False))
        c2.close()
        msg = watch.next_message()
        self.assertEqual((msg.topic, msg.payload), ("a/will", b"allowed"))
        watch.expect_no_message(QUIET)
        # No retained message was stored on b/will: a new subscriber gets only what is retained on
        # the control topic it publishes itself.
        late = self.watcher()
        pub = self.connect_scoped("mqtt:pub:b/#", "retain-ctl")
        pub.send(w.publish("b/ctl", b"c", qos=1, packet_id=1, retain=True, version=5))
        pub.expect(w.PUBACK)
        self.assertEqual(late.subscribe("b/#", qos=1), [1])
        msg = late.next_message()
        self.assertEqual(msg.topic, "b/ctl")
        late.expect_no_message(QUIET)
        self.assert_still_serving()

    def test_subscription_identifier_with_a_denied_filter_MQTT_3_8_2_1_2(self):
        c = self.connect_scoped("mqtt:sub:a/#", "subid")
        sid = bytes([w.PROP_SUBSCRIPTION_ID]) + w.varint(268435455)
        self.assertEqual(self.suback(c, ["b/x", "a/x"], props=sid), [NOT_AUTHORIZED, 1])
        pub = self.connect_scoped("mqtt:pub:#", "subid-pub")
        self.assertIn(self.pub_code(pub, "b/x", 1), (0x00, 0x10))
        self.assertIn(self.pub_code(pub, "a/x", 2), (0x00, 0x10))
        p = c.expect(w.PUBLISH)
        topic, _, props, _ = w.parse_publish(p, 5)
        self.assertEqual(topic, "a/x")  # b/x was never delivered before it
        # Subscription Identifier 0 is a Protocol Error [MQTT-3.8.2.1.2] (HI #38).
        c.send(w.subscribe(2, [("a/y", 1)], version=5, props=bytes([w.PROP_SUBSCRIPTION_ID]) + w.varint(0)))
        c.expect_disconnect_or_close(5, PROTOCOL_ERROR)
        self.assert_still_serving()


class WiderFilters(AuthzAttackBase):
    def test_subscribe_wider_than_the_grant_per_filter_MQTT_3_9_3_HI_80(self):
        # Coverage, not topic matching: a/x/# does not cover a/+/#, a/#, # or +/x/#; the filters of
        # the same packet that it covers are still granted.
        c = self.connect_scoped("mqtt:sub:a/x/#", "wider")
        self.assertEqual(self.suback(c, ["a/+/#", "a/x/#", "#", "a/x", "+/x/#", "a/#", "a/x/+/y"]),
                         [NOT_AUTHORIZED, 1, NOT_AUTHORIZED, 1, NOT_AUTHORIZED, NOT_AUTHORIZED, 1])
        c3 = self.connect_scoped("mqtt:sub:a/x/#", "wider-311", version=4)
        self.assertEqual(self.suback(c3, ["a/+/#", "a/x/y"], version=4), [V311_SUBACK_FAILURE, 1])
        self.assert_still_serving()


class HeldAndRetained(AuthzAttackBase):
    def connect_raw(self, client_id, token, clean=True, props=b""):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect(client_id, version=5, clean=clean, props=props, username="oauth2", password=token.encode()))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        return c

    def test_denied_qos2_cannot_be_released_after_widening_HI_84(self):
        # A QoS 2 PUBLISH refused with PUBREC 0x87 holds nothing: resuming the session with a
        # token that would allow the topic and sending PUBREL delivers nothing ([MQTT-4.3.3-*],
        # Mosquitto 2.0.12 "incoming QoS 2 not checked for ACL when reconnecting"). A QoS 2 PUBLISH
        # that was allowed is forwarded once; its PUBREL after a narrowing resume adds nothing.
        watch = self.watcher("#")
        expiry = w.prop_u32(w.PROP_SESSION_EXPIRY, 300)
        c = self.connect_raw("held-q2", self.token_for("mqtt:pub:a/#"), clean=False, props=expiry)
        c.send(w.publish("b/held", b"denied", qos=2, packet_id=7, version=5))
        rec = c.expect(w.PUBREC)
        self.assertEqual(rec.body[2], NOT_AUTHORIZED)
        c.send(w.publish("a/held", b"allowed", qos=2, packet_id=8, version=5))
        self.assertEqual(len(c.expect(w.PUBREC).body[2:3] or b"\0"), 1)
        c.close()
        c2 = self.connect_raw("held-q2", self.token_for("mqtt:pub:b/#"), clean=False, props=expiry)
        c2.send(w.puback(7, w.PUBREL) + w.puback(8, w.PUBREL))
        c2.expect(w.PUBCOMP)
        c2.expect(w.PUBCOMP)
        c2.send(w.publish("b/control", b"c", qos=1, packet_id=9, version=5))
        c2.expect(w.PUBACK)
        self.assertEqual([watch.next_message().topic for _ in range(2)], ["a/held", "b/control"])
        watch.expect_no_message(QUIET)
        self.assert_still_serving()

    def test_retained_not_delivered_after_reauth_narrowing_CVE_2018_12546_HI_83(self):
        pub = self.connect_scoped("mqtt:pub:#", "ret-pub")
        for i, topic in enumerate(["a/r", "b/r"]):
            pub.send(w.publish(topic, topic.encode(), qos=1, packet_id=i + 1, retain=True, version=5))
            pub.expect(w.PUBACK)
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect("ret-sub", version=5, props=self.auth_props(self.token_for("mqtt:sub:#"))))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        c.send(w.packet(0xF0, bytes([0x19]) + w.properties(self.auth_props(self.token_for("mqtt:sub:b/#")))))
        self.assertEqual(c.expect(w.AUTH).body[0], 0)
        self.assertEqual(self.suback(c, ["a/#", "b/#"]), [NOT_AUTHORIZED, 1])
        topic, _, _, payload = w.parse_publish(c.expect(w.PUBLISH), 5)
        self.assertEqual((topic, payload), ("b/r", b"b/r"))
        c.send(w.packet(0xC0, b""))
        c.expect(w.PINGRESP)  # nothing (no a/r) came before it
        self.assert_still_serving()


class RealClients(AuthzAttackBase):
    def test_mosquitto_sub_denied_filters_MQTT_3_9_3(self):
        import subprocess
        tok = self.token_for("mqtt:sub:sensors/#")
        for version in ("mqttv5", "mqttv311"):
            r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port()), "-V", version,
                                "-u", "oauth2", "-P", tok, "-t", "#", "-t", "$SYS/#", "-C", "1", "-W", "10"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
            self.assertIn("All subscription requests were denied", r.stdout.decode(errors="replace"), version)
        self.assert_still_serving()

    def test_mqttjs_forged_and_wildcard_client_id_MQTT_3_2_2_2(self):
        from auth_test import MqttJsClient
        url = "mqtt://127.0.0.1:%d" % self.broker.port()
        forged = self.signed_by_attacker({"alg": "none"})
        js = MqttJsClient({"url": url, "version": 5, "clientId": "js-forged", "username": "oauth2",
                           "password": forged})
        self.on_teardown(js.close)
        e = js.next_event()
        while e["ev"] == "output":
            e = js.next_event()
        self.assertEqual(e["ev"], "error", js.seen)
        self.assertEqual(e.get("code"), 0x86, js.seen)
        # A genuine token, a client id "#" and a scope built on {client_id}: nothing is granted.
        js2 = MqttJsClient({"url": url, "version": 5, "clientId": "#", "username": "oauth2",
                            "password": self.token_for("mqtt:all:dev/{client_id}/#"),
                            "subscribe": [["dev/#", 1]], "publish": [["dev/x/y", "p", 1]]})
        self.on_teardown(js2.close)
        self.assertEqual(js2.expect("connack")["rc"], 0)
        sub = js2.expect("suback")
        # MQTT.js turns SUBACK 0x87 into an error ("Subscribe error: Not authorized").
        self.assertIn("Not authorized", sub.get("error") or "", js2.seen)
        self.assertEqual(js2.expect("puback")["rc"], NOT_AUTHORIZED)
        self.assert_still_serving()


class ReauthDuringPolicyLoad(AuthzAttackBase):
    """A static rule file as policy source makes the first check of each principal asynchronous
    (docs/auth.md "Caching and asynchrony": later packets wait, in order). A re-authentication sent
    right behind a PUBLISH or SUBSCRIBE that waits for the load must not let the old token's
    rights leak past it ([MQTT-4.12.1]: the new token applies from the next packet on)."""

    def broker_options(self):
        import json
        import os
        options = super().broker_options()
        path = os.path.join(self.keydir, "acl.toml")
        with open(path, "w") as f:
            f.write('[[rule]]\neffect = "allow"\naction = "pub"\nfilter = "extra/{client_id}"\n')
        options["config_text"] += ('\n[auth.policy]\ncache_ttl = "60s"\n\n[[auth.policy.sources]]\ntype = "file"\n'
                                   'path = %s\n' % json.dumps(path))
        return options

    def reauth(self, token):
        return w.packet(0xF0, bytes([0x19]) + w.properties(self.auth_props(token)))

    def test_publish_behind_a_pending_load_then_narrowing_MQTT_4_12_1(self):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect("race-pub", version=5, props=self.auth_props(self.token_for("mqtt:all:a/# mqtt:pub:c/#"))))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        c.send(w.publish("a/x", b"1", qos=1, packet_id=1, version=5) + self.reauth(self.token_for("mqtt:pub:c/#")) +
               w.publish("a/y", b"2", qos=1, packet_id=2, version=5) +
               w.publish("c/z", b"3", qos=1, packet_id=3, version=5))
        first = c.expect(w.PUBACK)
        self.assertIn(first.body[2:3] or b"\0", (b"\0", b"\x10"))
        self.assertEqual(c.expect(w.AUTH).body[0], 0)
        self.assertEqual(c.expect(w.PUBACK).body[2], NOT_AUTHORIZED)
        self.assertIn(c.expect(w.PUBACK).body[2:3] or b"\0", (b"\0", b"\x10"))
        self.assert_still_serving()

    def test_subscription_behind_a_pending_load_then_narrowing_MQTT_4_12_1(self):
        pub = self.connect_scoped("mqtt:pub:#", "race-pubber")
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect("race-sub", version=5, props=self.auth_props(self.token_for("mqtt:all:a/# mqtt:sub:c/#"))))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        c.send(w.subscribe(1, [("a/#", 1)], version=5) + self.reauth(self.token_for("mqtt:sub:c/#")) +
               w.subscribe(2, [("c/#", 1)], version=5))
        self.assertEqual(suback_codes(c.expect(w.SUBACK), 5), [1])  # granted to the old token
        self.assertEqual(c.expect(w.AUTH).body[0], 0)
        self.assertEqual(suback_codes(c.expect(w.SUBACK), 5), [1])
        # The a/# subscription was removed by the re-authentication: a/secret never arrives.
        self.assertIn(self.pub_code(pub, "a/secret", 1), (0x00, 0x10))
        self.assertIn(self.pub_code(pub, "c/ctl", 2), (0x00, 0x10))
        self.assertEqual(w.parse_publish(c.expect(w.PUBLISH), 5)[0], "c/ctl")
        self.assert_still_serving()


class LongTopics(AuthzAttackBase):
    def test_very_long_topic_judged_whole_HI_36(self):
        # A 60,000-byte topic under a/ is within mqtt:pub:a/#, one under b/ is not; a grant for a
        # prefix of a long topic name never matches the longer name.
        c = self.connect_scoped("mqtt:pub:a/# mqtt:pub:c/" + "x" * 100, "long")
        self.assertIn(self.pub_code(c, "a/" + "x" * 60000, 1), (0x00, 0x10))
        self.assertEqual(self.pub_code(c, "b/" + "x" * 60000, 2), NOT_AUTHORIZED)
        self.assertEqual(self.pub_code(c, "c/" + "x" * 101, 3), NOT_AUTHORIZED)
        self.assert_still_serving()

    def test_very_deep_topic_and_filter_HI_36_CVE_2019_11779(self):
        # 30,000 levels: no stack overflow. A PUBLISH within the scope is either accepted or
        # refused for its depth; a SUBSCRIBE beyond the scope is 0x87 or 0x8F, never granted.
        c = self.connect_scoped("mqtt:all:a/#", "deep")
        deep = "a" + "/" * 30000
        c.send(w.publish(deep, b"x", qos=1, packet_id=1, version=5))
        p = c.read_packet()
        self.assertIsNotNone(p)
        self.assertIn(p.type, (w.PUBACK, w.DISCONNECT), p)
        if p.type == w.PUBACK:
            c2 = self.connect_scoped("mqtt:all:a/#", "deep-sub")
            codes = self.suback(c2, ["b" + "/+" * 30000, "a" + "/+" * 30000])
            self.assertIn(codes[0], (NOT_AUTHORIZED, TOPIC_FILTER_INVALID))
            self.assertIn(codes[1], (0, 1, TOPIC_FILTER_INVALID))
        self.assert_still_serving()


if __name__ == "__main__":
    main()
