// MQTT.js (npm "mqtt" 5.x) against tollgate: connect, subscribe, publish at QoS 0, 1 and 2 and
// receive each message back, over ws:// or wss://, as MQTT 3.1.1 or 5.
//
// usage: node mqttjs_roundtrip.js <url> <protocolVersion 4|5> [ca.pem]
// Exits 0 when every message came back with the right topic, payload and QoS; prints why not
// otherwise. Every wait has a timeout; nothing sleeps.
'use strict';

const fs = require('fs');
const mqtt = require('mqtt');

const [url, versionArg, caFile] = process.argv.slice(2);
if (!url || !versionArg) {
  console.error('usage: node mqttjs_roundtrip.js <url> <4|5> [ca.pem]');
  process.exit(2);
}
const protocolVersion = Number(versionArg);
const TIMEOUT_MS = 15000;

function fail(message) {
  console.error('FAIL: ' + message);
  process.exit(1);
}

const timer = setTimeout(() => fail('timed out after ' + TIMEOUT_MS + ' ms'), TIMEOUT_MS);

const options = {
  protocolVersion,
  clientId: 'mqttjs-' + process.pid + '-' + protocolVersion,
  clean: true,
  reconnectPeriod: 0, // a refused connection is a failure, not a retry loop
  connectTimeout: 10000,
};
if (caFile) {
  options.ca = fs.readFileSync(caFile);
  options.rejectUnauthorized = true;
}

const client = mqtt.connect(url, options);
const topic = 'mqttjs/' + process.pid + '/' + protocolVersion;
const expected = new Map([
  ['qos0', 0],
  ['qos1', 1],
  ['qos2', 2],
]);

client.on('error', (err) => fail('client error: ' + err.message));
client.on('close', () => {
  if (expected.size !== 0) fail('connection closed with ' + expected.size + ' message(s) outstanding');
});

client.on('message', (t, payload, packet) => {
  const text = payload.toString();
  if (t !== topic) fail('message on unexpected topic ' + t);
  if (!expected.has(text)) fail('unexpected or duplicate message ' + text);
  if (packet.qos !== expected.get(text)) fail(text + ' arrived with QoS ' + packet.qos);
  expected.delete(text);
  console.log('received ' + text + ' at QoS ' + packet.qos);
  if (expected.size === 0) {
    client.end(false, () => {
      clearTimeout(timer);
      console.log('OK');
      process.exit(0);
    });
  }
});

client.on('connect', (connack) => {
  console.log('connected (' + url + ', MQTT ' + protocolVersion + ')');
  if (protocolVersion === 5 && connack.reasonCode !== 0) fail('CONNACK reason ' + connack.reasonCode);
  client.subscribe(topic, { qos: 2 }, (err, granted) => {
    if (err) fail('subscribe: ' + err.message);
    if (!granted || granted[0].qos !== 2) fail('granted ' + JSON.stringify(granted));
    for (const [text, qos] of expected) {
      client.publish(topic, text, { qos }, (perr) => {
        if (perr) fail('publish ' + text + ': ' + perr.message);
      });
    }
  });
});
