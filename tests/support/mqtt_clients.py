"""Real MQTT clients for the integration tests, wrapped so that every wait is on an event.

- PahoClient: Eclipse Paho (Debian python3-paho-mqtt 1.6), MQTT 3.1.1 or 5, over TCP, TLS,
  WebSocket or WSS. Callbacks feed threading.Events and a queue; every wait has a timeout.
- MosquittoSub / mosquitto_pub(): the mosquitto-clients command-line tools.
- run_node(): runs a Node.js script of tests/js (MQTT.js).
"""

import os
import queue
import select
import socket
import ssl
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from tollgate_fixture import source_dir

TIMEOUT = 10.0  # seconds for anything that should happen promptly
QUIET = 1.0  # seconds a bounded wait for something that must NOT happen


class ClientError(AssertionError):
    pass


def props(packet_type, **values):
    """A paho Properties object, e.g. props(PacketTypes.PUBLISH, MessageExpiryInterval=30)."""
    p = Properties(packet_type)
    for k, v in values.items():
        setattr(p, k, v)
    return p


class PahoClient:
    """A paho client running its network loop in a thread. version is 4 (3.1.1) or 5."""

    _ids = 0
    _ids_lock = threading.Lock()

    def __init__(self, port, client_id=None, version=5, clean=True, transport="tcp", tls=None, ws_path="/mqtt",
                 host="127.0.0.1", keepalive=60):
        if client_id is None:
            with PahoClient._ids_lock:
                PahoClient._ids += 1
                client_id = "it-%d-%d" % (os.getpid(), PahoClient._ids)
        self.client_id = client_id
        self.version = version
        self.port = port
        self.host = host
        self.keepalive = keepalive
        self.clean = clean
        protocol = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
        if version == 5:
            self.client = mqtt.Client(client_id=client_id, protocol=protocol, transport=transport)
        else:
            self.client = mqtt.Client(client_id=client_id, clean_session=clean, protocol=protocol,
                                      transport=transport)
        if transport == "websockets":
            self.client.ws_set_options(path=ws_path)
        if tls is not None:
            self.client.tls_set(ca_certs=tls.get("ca"), certfile=tls.get("cert"), keyfile=tls.get("key"),
                                cert_reqs=ssl.CERT_REQUIRED)
        self.messages = queue.Queue()
        self.connected = threading.Event()
        self._connect_done = threading.Event()
        self.disconnected = threading.Event()
        self.connack = None  # (flags, reason code, properties)
        self.disconnect_reason = None
        self._acks = {}  # mid -> Event (PUBACK/PUBCOMP, SUBACK, UNSUBACK)
        self._ack_results = {}
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe

    # ---- callbacks (paho's network thread) ---------------------------------------------------

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = (flags, rc, properties)
        if int(getattr(rc, "value", rc)) == 0:
            self.connected.set()
        self._connect_done.set()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnect_reason = rc
        self.connected.clear()
        self.disconnected.set()
        self._connect_done.set()

    def _on_message(self, client, userdata, msg):
        self.messages.put(msg)

    def _ack_event(self, mid):
        with self._lock:
            return self._acks.setdefault(mid, threading.Event())

    def _on_publish(self, client, userdata, mid):
        self._ack_event(mid).set()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self._ack_results[mid] = granted
        self._ack_event(mid).set()

    def _on_unsubscribe(self, client, userdata, mid, *rest):
        self._ack_results[mid] = rest
        self._ack_event(mid).set()

    # ---- actions -------------------------------------------------------------------------------

    def will(self, topic, payload, qos=0, retain=False, delay=None):
        properties = None
        if delay is not None:
            properties = props(PacketTypes.WILLMESSAGE, WillDelayInterval=delay)
        self.client.will_set(topic, payload, qos=qos, retain=retain, properties=properties)
        return self

    def connect(self, session_expiry=None, receive_maximum=None, topic_alias_maximum=None, expect_success=True):
        """Connects and waits for CONNACK. Returns (flags, reason code, properties)."""
        self.disconnected.clear()
        self._connect_done.clear()
        self.connack = None
        if self.version == 5:
            p = None
            values = {}
            if session_expiry is not None:
                values["SessionExpiryInterval"] = session_expiry
            if receive_maximum is not None:
                values["ReceiveMaximum"] = receive_maximum
            if topic_alias_maximum is not None:
                values["TopicAliasMaximum"] = topic_alias_maximum
            if values:
                p = props(PacketTypes.CONNECT, **values)
            self.client.connect(self.host, self.port, keepalive=self.keepalive, clean_start=self.clean, properties=p)
        else:
            self.client.connect(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()
        # CONNACK and a closed connection both set _connect_done.
        if not self._connect_done.wait(TIMEOUT):
            raise ClientError("%s: no CONNACK within %.0f s" % (self.client_id, TIMEOUT))
        if self.connack is None:
            raise ClientError("%s: connection closed before CONNACK (%r)" % (self.client_id, self.disconnect_reason))
        flags, rc, _ = self.connack
        if expect_success and int(getattr(rc, "value", rc)) != 0:
            raise ClientError("%s: CONNACK refused: %r" % (self.client_id, rc))
        return self.connack

    def session_present(self):
        return bool(self.connack[0].get("session present"))

    def subscribe(self, topic, qos=0, no_local=False, retain_as_published=False, retain_handling=0,
                  properties=None):
        """Subscribes and waits for SUBACK; returns the granted QoS / reason codes."""
        if self.version == 5:
            options = SubscribeOptions(qos=qos, noLocal=no_local, retainAsPublished=retain_as_published,
                                       retainHandling=retain_handling)
            rc, mid = self.client.subscribe(topic, options=options, properties=properties)
        else:
            rc, mid = self.client.subscribe(topic, qos)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise ClientError("subscribe failed locally: %d" % rc)
        if not self._ack_event(mid).wait(TIMEOUT):
            raise ClientError("%s: no SUBACK for %s" % (self.client_id, topic))
        granted = self._ack_results[mid]
        return [int(getattr(g, "value", g)) for g in granted]

    def unsubscribe(self, topic):
        rc, mid = self.client.unsubscribe(topic)
        if not self._ack_event(mid).wait(TIMEOUT):
            raise ClientError("%s: no UNSUBACK for %s" % (self.client_id, topic))

    def publish(self, topic, payload, qos=0, retain=False, properties=None, wait=True):
        """Publishes; for QoS 1/2 waits until the broker acknowledged (PUBACK / PUBCOMP)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ClientError("publish failed locally: %d" % info.rc)
        if wait:
            self.wait_published(info.mid)
        return info.mid

    def wait_published(self, mid, timeout=TIMEOUT):
        if not self._ack_event(mid).wait(timeout):
            raise ClientError("%s: message %d not acknowledged within %.0f s" % (self.client_id, mid, timeout))

    def is_published(self, mid):
        return self._ack_event(mid).is_set()

    def next_message(self, timeout=TIMEOUT):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise ClientError("%s: no message within %.1f s" % (self.client_id, timeout)) from None

    def expect_no_message(self, timeout=QUIET):
        try:
            msg = self.messages.get(timeout=timeout)
        except queue.Empty:
            return
        raise ClientError("%s: unexpected message on %s: %r" % (self.client_id, msg.topic, msg.payload))

    def disconnect(self):
        """A normal DISCONNECT; waits until the connection is gone and stops the loop."""
        if self.connected.is_set():
            self.client.disconnect()
            if not self.disconnected.wait(TIMEOUT):
                raise ClientError("%s: disconnect did not complete" % self.client_id)
        self.client.loop_stop()

    def drop(self):
        """Kills the TCP connection without DISCONNECT (what a crash or a network loss looks like)."""
        sock = self.client.socket()
        self.client.loop_stop()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        try:
            self.client.loop_stop()
            if self.client.socket() is not None:
                self.client.socket().close()
        except Exception:
            pass


class MosquittoSub:
    """mosquitto_sub as a process. Each message is printed as one line MSG|topic|qos|retain|payload.
    start() returns once the SUBACK was received (mosquitto_sub -d reports it)."""

    def __init__(self, port, topic, qos=0, version="mqttv311", count=None, extra=()):
        # stdbuf: line-buffered stdout, so the SUBACK line arrives when it happens, not at exit.
        self.args = ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-V", version, "-t", topic, "-q", str(qos),
                     "-d", "-F", "MSG|%t|%q|%r|%p"]
        if count is not None:
            self.args += ["-C", str(count)]
        self.args += list(extra)
        self.lines = queue.Queue()
        self.output = []
        self.subscribed = threading.Event()

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.subscribed.wait(TIMEOUT):
            self.stop()
            raise ClientError("mosquitto_sub: no SUBACK\n" + "\n".join(self.output))
        return self

    def _read(self):
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.output.append(line)
            if "received SUBACK" in line:
                self.subscribed.set()
            if line.startswith("MSG|"):
                self.lines.put(line[4:].split("|", 3))
        self.process.stdout.close()
        self.lines.put(None)
        self.subscribed.set()

    def next_message(self, timeout=TIMEOUT):
        """(topic, qos, retain, payload) as strings."""
        try:
            item = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise ClientError("mosquitto_sub: no message within %.0f s\n%s" % (timeout, "\n".join(self.output)))
        if item is None:
            raise ClientError("mosquitto_sub exited\n" + "\n".join(self.output))
        return tuple(item)

    def wait_exit(self, timeout=TIMEOUT):
        return self.process.wait(timeout=timeout)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=TIMEOUT)


def mosquitto_pub(port, topic, message, qos=0, version="mqttv311", retain=False, extra=()):
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", version, "-t", topic, "-q", str(qos)]
    if message is None:
        args += ["-n"]
    else:
        args += ["-m", message]
    if retain:
        args.append("-r")
    args += list(extra)
    result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
    if result.returncode != 0:
        raise ClientError("mosquitto_pub %s failed (%d): %s" % (" ".join(args[1:]), result.returncode,
                                                                 result.stdout.decode(errors="replace")))
    return result


def run_node(script, args, timeout=60):
    """Runs tests/js/<script> with node; returns (exit code, output)."""
    js_dir = os.path.join(source_dir(), "tests", "js")
    if not os.path.isdir(os.path.join(js_dir, "node_modules", "mqtt")):
        raise ClientError("tests/js/node_modules/mqtt is missing: run scripts/install-deps")
    result = subprocess.run(["node", os.path.join(js_dir, script)] + [str(a) for a in args], cwd=js_dir,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return result.returncode, result.stdout.decode(errors="replace")


def socket_closed(sock, timeout=TIMEOUT):
    """Reads until the peer closes the connection (or resets it); returns the bytes read before
    the close. Raises if the connection is still open after `timeout`."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ClientError("connection still open after %.1f s (read %r)" % (timeout, data[:64]))
        ready, _, _ = select.select([sock], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return data
        if not chunk:
            return data
        data += chunk
