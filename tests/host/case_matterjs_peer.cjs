// A CASE initiator built from matter.js's own pieces (its CASE TLV schemas, certificate classes, crypto and
// status report codec), following the steps of matter.js's CaseClient, for test_case_matterjs.py.
//
//   node case_matterjs_peer.cjs MJS_DIR CONFIG_JSON
//
// CONFIG_JSON: {"rcac", "icac", "noc", "key", "epoch" (hex), "fabricId", "peerNodeId" (decimal strings),
// "record": null or {"sharedSecret", "resumptionId"} (hex)}.  Talks JSON lines on stdin/stdout, one message
// each: {"opcode": n, "payload": "hex"}; ends with {"done": true, "resumed", "sharedSecret", "salt",
// "resumptionId", "peerSessionId", "peerNodeId"} or {"failed": "why"}.  No network: the Python test relays.
"use strict";
const { createRequire } = require("module");
const readline = require("readline");

const [mjsDir, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
const req = createRequire(mjsDir + "/package.json");
const { Bytes, PrivateKey, PublicKey, EcdsaSignature } = req("@matter/general");
const { NodeJsCrypto } = req("@matter/nodejs");
const p = req("@matter/protocol");
const { TlvCaseSigma1, TlvCaseSigma2, TlvCaseSigma2Resume, TlvCaseSigma3, TlvSignedData } = p;
const { TlvEncryptedDataSigma2, TlvEncryptedDataSigma3, SecureChannelStatusMessage, Noc, Icac, Rcac } = p;
const { KDFSR1_KEY_INFO, KDFSR2_KEY_INFO, KDFSR2_INFO, KDFSR3_INFO } = p;
const { RESUME1_MIC_NONCE, RESUME2_MIC_NONCE, TBE_DATA2_NONCE, TBE_DATA3_NONCE } = p;

const crypto = new NodeJsCrypto();
const OP = { sigma1: 0x30, sigma2: 0x31, sigma3: 0x32, sigma2Resume: 0x33, status: 0x40 };
const hex = Bytes.fromHex;
const params = {
    idleInterval: 1100, activeInterval: 350, activeThreshold: 4000, dataModelRevision: 17,
    interactionModelRevision: 11, specificationVersion: 0x01030000, maxPathsPerInvoke: 1,
};

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
function u64(value, littleEndian) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(value), littleEndian);
    return out;
}

async function main() {
    const rcac = hex(config.rcac), icac = config.icac ? hex(config.icac) : undefined, noc = hex(config.noc);
    const rootKey = Rcac.fromTlv(rcac).cert.ellipticCurvePublicKey;
    // The fabric's operational IPK and the destination id, from the primitives as matter.js's Fabric does.
    const compressedId = await crypto.createHkdfKey(Bytes.of(rootKey).slice(1), u64(config.fabricId, false),
                                                    Bytes.fromString("CompressedFabric"), 8);
    const ipk = await crypto.createHkdfKey(hex(config.epoch), compressedId, Bytes.fromString("GroupKey v1.0"), 16);
    const ownKey = await crypto.createKeyPair();
    const random = crypto.randomBytes(32);
    const destinationId = await crypto.signHmac(ipk, Bytes.concat(random, rootKey, u64(config.fabricId, true),
                                                                  u64(config.peerNodeId, true)));
    const sigma1 = { initiatorRandom: random, initiatorSessionId: 0x1357, destinationId,
                     initiatorEcdhPublicKey: ownKey.publicBits, initiatorSessionParams: params };
    const record = config.record;
    if (record) {
        const resumeKey = await crypto.createHkdfKey(hex(record.sharedSecret),
                                                     Bytes.concat(random, hex(record.resumptionId)), KDFSR1_KEY_INFO);
        sigma1.resumptionId = hex(record.resumptionId);
        sigma1.initiatorResumeMic = crypto.encrypt(resumeKey, new Uint8Array(0), RESUME1_MIC_NONCE);
    }
    const sigma1Bytes = TlvCaseSigma1.encode(sigma1);
    send(OP.sigma1, sigma1Bytes);

    const reply = await next();
    const payload = hex(reply.payload);
    if (reply.opcode === OP.sigma2Resume) {
        if (!record) return finish({ failed: "unexpected Sigma2_Resume" });
        const resume = TlvCaseSigma2Resume.decode(payload);
        const resumeKey = await crypto.createHkdfKey(hex(record.sharedSecret),
                                                     Bytes.concat(random, resume.resumptionId), KDFSR2_KEY_INFO);
        crypto.decrypt(resumeKey, resume.resumeMic, RESUME2_MIC_NONCE); // throws on a bad MIC
        send(OP.status, SecureChannelStatusMessage.encode({ generalStatus: 0, protocolStatus: 0 }));
        return finish({ done: true, resumed: true, sharedSecret: record.sharedSecret,
                        salt: Bytes.toHex(Bytes.concat(random, hex(record.resumptionId))),
                        resumptionId: Bytes.toHex(resume.resumptionId), peerSessionId: resume.responderSessionId,
                        peerNodeId: config.peerNodeId });
    }
    if (reply.opcode !== OP.sigma2) return finish({ failed: "expected Sigma2, got " + reply.opcode });
    const sigma2 = TlvCaseSigma2.decode(payload);
    const peerKey = sigma2.responderEcdhPublicKey;
    const sharedSecret = await crypto.generateDhSecret(ownKey, PublicKey(peerKey));
    const sigma2Salt = Bytes.concat(ipk, sigma2.responderRandom, peerKey, await crypto.computeHash(sigma1Bytes));
    const sigma2Key = await crypto.createHkdfKey(sharedSecret, sigma2Salt, KDFSR2_INFO);
    const tbe = TlvEncryptedDataSigma2.decode(crypto.decrypt(sigma2Key, sigma2.encrypted, TBE_DATA2_NONCE));
    const peerNoc = Noc.fromTlv(tbe.responderNoc);
    const root = Rcac.fromTlv(rcac);
    await root.verify(crypto);
    const peerIcac = tbe.responderIcac === undefined ? undefined : Icac.fromTlv(tbe.responderIcac);
    if (peerIcac) await peerIcac.verify(crypto, root);
    await peerNoc.verify(crypto, root, peerIcac);
    const signed = TlvSignedData.encode({ responderNoc: tbe.responderNoc, responderIcac: tbe.responderIcac,
                                          responderPublicKey: peerKey, initiatorPublicKey: ownKey.publicBits });
    await crypto.verifyEcdsa(PublicKey(peerNoc.cert.ellipticCurvePublicKey), signed, new EcdsaSignature(tbe.signature));
    if (BigInt(peerNoc.cert.subject.nodeId) !== BigInt(config.peerNodeId)) return finish({ failed: "wrong node id" });

    const sigma3Salt = Bytes.concat(ipk, await crypto.computeHash([sigma1Bytes, payload]));
    const sigma3Key = await crypto.createHkdfKey(sharedSecret, sigma3Salt, KDFSR3_INFO);
    const ownSigned = TlvSignedData.encode({ responderNoc: noc, responderIcac: icac,
                                             responderPublicKey: ownKey.publicBits, initiatorPublicKey: peerKey });
    const myKey = PrivateKey(hex(config.key), { publicKey: Noc.fromTlv(noc).cert.ellipticCurvePublicKey });
    const signature = await crypto.signEcdsa(myKey, ownSigned);
    const encrypted = crypto.encrypt(sigma3Key, TlvEncryptedDataSigma3.encode({
        responderNoc: noc, responderIcac: icac, signature: signature.bytes }), TBE_DATA3_NONCE);
    const sigma3Bytes = TlvCaseSigma3.encode({ encrypted });
    send(OP.sigma3, sigma3Bytes);
    const last = await next();
    const report = SecureChannelStatusMessage.decode(hex(last.payload));
    if (last.opcode !== OP.status || report.generalStatus !== 0 || report.protocolStatus !== 0) {
        return finish({ failed: "no Success: " + JSON.stringify(report) });
    }
    const salt = Bytes.concat(ipk, await crypto.computeHash([sigma1Bytes, payload, sigma3Bytes]));
    finish({ done: true, resumed: false, sharedSecret: Bytes.toHex(sharedSecret), salt: Bytes.toHex(salt),
             resumptionId: Bytes.toHex(tbe.resumptionId), peerSessionId: sigma2.responderSessionId,
             peerNodeId: config.peerNodeId });
}

main().catch(e => finish({ failed: String(e && e.stack || e) }));
