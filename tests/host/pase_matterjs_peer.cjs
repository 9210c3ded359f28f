// A PASE peer built from matter.js's own pieces (its PASE TLV schemas, Spake2p, crypto and status
// report codec), following the steps of matter.js's PaseClient / PaseServer, for test_pase_matterjs.py.
//
//   node pase_matterjs_peer.cjs MJS_DIR initiator|responder PASSCODE SALT_HEX ITERATIONS
//
// Talks JSON lines on stdin/stdout, one message each: {"opcode": n, "payload": "hex"}; ends with
// {"done": true, "ke": "hex", ...} or {"failed": "why"}.  No network: the Python test relays the messages.
"use strict";
const { createRequire } = require("module");
const readline = require("readline");

const [mjsDir, role, passcodeText, saltHex, iterationsText] = process.argv.slice(2);
const req = createRequire(mjsDir + "/package.json");
const { Spake2p, Bytes } = req("@matter/general");
const { NodeJsCrypto } = req("@matter/nodejs");
const protocol = req("@matter/protocol");
const { TlvPbkdfParamRequest, TlvPbkdfParamResponse, TlvPasePake1, TlvPasePake2, TlvPasePake3 } = protocol;
const { SPAKE_CONTEXT, SecureChannelStatusMessage } = protocol;

const crypto = new NodeJsCrypto();
const pin = Number(passcodeText);
const pbkdf = { iterations: Number(iterationsText), salt: Bytes.fromHex(saltHex) };
const params = {
    idleInterval: 1100, activeInterval: 350, activeThreshold: 4000, dataModelRevision: 17,
    interactionModelRevision: 11, specificationVersion: 0x01030000, maxPathsPerInvoke: 1,
};
const OP = { request: 0x20, response: 0x21, pake1: 0x22, pake2: 0x23, pake3: 0x24, status: 0x40 };

const lines = readline.createInterface({ input: process.stdin });
const queue = [];
let waiting = null;
lines.on("line", line => (waiting ? (waiting(JSON.parse(line)), (waiting = null)) : queue.push(JSON.parse(line))));
function next() {
    return queue.length ? Promise.resolve(queue.shift()) : new Promise(resolve => (waiting = resolve));
}
function send(opcode, payload) {
    process.stdout.write(JSON.stringify({ opcode, payload: Bytes.toHex(payload) }) + "\n");
}
function finish(result) {
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(0);
}
async function expect(opcode) {
    const message = await next();
    const payload = Bytes.fromHex(message.payload);
    if (message.opcode !== opcode) {
        const detail = message.opcode === OP.status ? SecureChannelStatusMessage.decode(payload) : message.opcode;
        finish({ failed: "expected " + opcode + ", got " + JSON.stringify(detail, (k, v) => (typeof v === "bigint" ? String(v) : v)) });
    }
    return payload;
}
function status(general, code) {
    return SecureChannelStatusMessage.encode({ generalStatus: general, protocolStatus: code });
}

async function initiator() {
    const requestPayload = TlvPbkdfParamRequest.encode({
        initiatorRandom: crypto.randomBytes(32), initiatorSessionId: 0x2468, passcodeId: 0,
        hasPbkdfParameters: false, initiatorSessionParams: params,
    });
    send(OP.request, requestPayload);
    const responsePayload = await expect(OP.response);
    const response = TlvPbkdfParamResponse.decode(responsePayload);
    const { w0, w1 } = await Spake2p.computeW0W1(crypto, response.pbkdfParameters, pin);
    const spake2p = Spake2p.create(crypto, await crypto.computeHash([SPAKE_CONTEXT, requestPayload, responsePayload]), w0);
    const X = spake2p.computeX();
    send(OP.pake1, TlvPasePake1.encode({ x: X }));
    const { y: Y, verifier } = TlvPasePake2.decode(await expect(OP.pake2));
    const { Ke, hAY, hBX } = await spake2p.computeSecretAndVerifiersFromY(w1, X, Y);
    if (!Bytes.areEqual(verifier, hBX)) {
        send(OP.status, status(1, 2)); // Failure / InvalidParameter, as matter.js's PaseClient does
        finish({ failed: "cB did not verify" });
    }
    send(OP.pake3, TlvPasePake3.encode({ verifier: hAY }));
    const report = SecureChannelStatusMessage.decode(await expect(OP.status));
    if (report.generalStatus !== 0 || report.protocolStatus !== 0) finish({ failed: "status " + report.protocolStatus });
    finish({
        done: true, ke: Bytes.toHex(Ke), peerSessionId: response.responderSessionId,
        salt: Bytes.toHex(response.pbkdfParameters.salt), iterations: response.pbkdfParameters.iterations,
        peerParams: response.responderSessionParams,
    });
}

async function responder() {
    const { w0, L } = await Spake2p.computeW0L(crypto, pbkdf, pin);
    const requestPayload = await expect(OP.request);
    const request = TlvPbkdfParamRequest.decode(requestPayload);
    const responsePayload = TlvPbkdfParamResponse.encode({
        initiatorRandom: request.initiatorRandom, responderRandom: crypto.randomBytes(32), responderSessionId: 0x1357,
        pbkdfParameters: request.hasPbkdfParameters ? undefined : pbkdf, responderSessionParams: params,
    });
    send(OP.response, responsePayload);
    const spake2p = Spake2p.create(crypto, await crypto.computeHash([SPAKE_CONTEXT, requestPayload, responsePayload]), w0);
    const { x: X } = TlvPasePake1.decode(await expect(OP.pake1));
    const Y = spake2p.computeY();
    const { Ke, hAY, hBX } = await spake2p.computeSecretAndVerifiersFromX(L, X, Y);
    send(OP.pake2, TlvPasePake2.encode({ y: Y, verifier: hBX }));
    const { verifier } = TlvPasePake3.decode(await expect(OP.pake3));
    if (!Bytes.areEqual(verifier, hAY)) {
        send(OP.status, status(1, 2));
        finish({ failed: "cA did not verify" });
    }
    send(OP.status, status(0, 0));
    finish({ done: true, ke: Bytes.toHex(Ke), peerSessionId: request.initiatorSessionId, peerParams: request.initiatorSessionParams });
}

(role === "initiator" ? initiator() : responder()).catch(error => finish({ failed: String(error && error.stack || error) }));
