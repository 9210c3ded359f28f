// matter.js 0.17.9 controller (ServerNode + ControllerBehavior). Run it through mjs-ctl.sh (inside the
// controller network namespace).
//
//   commission --ip IP --port PORT --passcode N [--no-address-hint]
//                                                    PASE to IP:PORT, attestation, NOC, CASE; prints the node id
//   read       [--node-id N]                         BasicInformation + OnOff (endpoint 1) + CommissionedFabrics
//   toggle     [--node-id N]                         OnOff.toggle on endpoint 1, OnOff read before and after
//   open-window [--node-id N] [--window S] [--discriminator N] [--iterations N]
//                                                    an enhanced commissioning window (random passcode) for
//                                                    another admin; prints passcode and manual_code
//   reconnect  [--node-id N] [--cycles N] [--expire] [--trigger PATH] [--trigger-timeout S] [--retries K]
//              one process, N reads; before read i (i>=2) wait for file PATH.i (bounded); with --expire the
//              sessions to the node are closed locally first (no message to the device), forcing a new CASE;
//              a failed read is retried K times (default 1)
//
// Common flags: --ctl-state DIR (default $INTEROP_HOME/state), --timeout S (per step, 30),
//   --attestation paa|lenient (default paa: PAA trust store = the PEM files in $INTEROP_PAA_DIR; only "error"
//   findings reject), --ctl-port N (local UDP port, 5541), --log FILE, --log-level L, --max-seconds S.
// The node id defaults to the last commissioned node. Without mDNS answers matter.js cannot find the node's
// operational address during commissioning, so commission seeds it with --ip/--port ("address hint").
//
// stdout: "RESULT {json}" per operation: op, ok, elapsed_ms, pase, case ("new" | "resumed" | "reused"), ...

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
    emit,
    lifetimeGuard,
    loadMatter,
    parseFlags,
    sessionProbe,
    sessionSummary,
    since,
    stamp,
    withTimeout,
    HOME,
} from "./common.mjs";

const { flags, positional } = parseFlags();
const op = positional[0];
if (!["commission", "read", "toggle", "open-window", "reconnect"].includes(op)) {
    console.error("usage: controller.mjs commission --ip IP --port PORT --passcode N | read | toggle | open-window | reconnect");
    process.exit(2);
}
const timeoutMs = Number(flags.timeout ?? 30) * 1000;
const logFile = flags.log ?? `${HOME}/logs/mjs-${op}-${stamp()}-${process.pid}.log`;
lifetimeGuard(flags["max-seconds"] ?? 300, `controller ${op}`);

const matter = await loadMatter({
    stateDir: flags["ctl-state"] ?? `${HOME}/state`,
    logFile,
    level: flags["log-level"] ?? "info",
});
const { ServerNode, ControllerBehavior, VendorId, NodeId, Seconds, Crypto } = matter;
const { PeerSet, SessionManager, Read, Invoke, PaseClient } = matter.protocol;
const { AdministratorCommissioning, BasicInformation, OnOff, OperationalCredentials } = matter.clusters;
const { ManualPairingCodeCodec } = await import("@matter/main/types");
const events = sessionProbe(matter);

let controller;
try {
    controller = await ServerNode.create(ServerNode.RootEndpoint.with(ControllerBehavior), {
        id: "interop-controller",
        network: { port: Number(flags["ctl-port"] ?? 5541), ble: false },
        basicInformation: { vendorId: VendorId(0xfff1) },
        controller: { adminFabricLabel: "interop matter.js", ble: false },
        commissioning: { enabled: false },
        subscriptions: { persistenceEnabled: false },
    });
    await controller.start();
} catch (e) {
    emit("RESULT", { op, ok: false, error: `controller start failed: ${String(e?.message ?? e).slice(0, 300)}`, log: logFile });
    process.exit(1);
}

// ---- attestation: offline PAA trust store from PEM files -------------------------------------------------
async function setupAttestation() {
    const mode = flags.attestation ?? "paa";
    if (mode === "lenient") return { policy: true, info: { mode } };
    if (mode !== "paa") throw new Error(`--attestation ${mode}: use paa or lenient`);
    const { DclCertificateService } = matter.protocol;
    // No DCL or GitHub download: the URLs point at a closed loopback port inside the namespace.
    const offline = { url: "http://127.0.0.1:9" };
    const dcl = new DclCertificateService(controller.env, {
        acceptTestCertificates: true,
        fetchTestCertificates: false,
        fetchGithubCertificates: false,
        updateInterval: null,
        timeout: Seconds(1),
        dclConfig: offline,
        testDclConfig: offline,
    });
    await dcl.construction;
    const dir = flags["paa-dir"] ?? process.env.INTEROP_PAA_DIR;
    if (!dir) throw new Error("no PAA directory (--paa-dir or INTEROP_PAA_DIR)");
    const loaded = [];
    for (const name of readdirSync(dir).filter(n => /^test-paa-.*-cert\.pem$/.test(n)).sort()) {
        const pem = readFileSync(join(dir, name), "utf8");
        const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
        await dcl.addCertificate(new Uint8Array(Buffer.from(b64, "base64")), "PAA", { isProduction: false });
        loaded.push(name);
    }
    if (!loaded.length) throw new Error(`no test-paa-*-cert.pem in ${dir}`);
    const findings = [];
    const policy = list => {
        for (const f of list) findings.push({ level: f.level, type: f.type });
        return !list.some(f => f.level === "error");
    };
    return { policy, info: { mode, paa: loaded, findings } };
}

// ---- helpers -----------------------------------------------------------------------------------------------
function pickNode() {
    const nodes = [...controller.peers].filter(p => p.peerAddress !== undefined);
    if (flags["node-id"] !== undefined) {
        const n = nodes.find(p => p.peerAddress.nodeId.toString() === String(flags["node-id"]));
        if (!n) throw new Error(`node ${flags["node-id"]} not in controller state`);
        return n;
    }
    if (!nodes.length) throw new Error("no commissioned node in controller state (run commission first)");
    return nodes[nodes.length - 1];
}

async function readAttrs(client, selectors) {
    const request = { ...Read(...selectors.map(s => Read.Attribute(s))), includeKnownVersions: true };
    const out = [];
    for await (const chunk of client.interaction.read(request)) {
        for await (const r of chunk) {
            if (r.kind === "attr-value" || r.kind === "attr-status") out.push(r);
        }
    }
    return out;
}

function pick(reports, cluster, attribute, endpoint) {
    const id = cluster.attributes[attribute].id;
    const r = reports.find(
        x => x.path.clusterId === cluster.id && x.path.attributeId === id && x.path.endpointId === endpoint,
    );
    return r?.kind === "attr-value" ? r.value : null;
}

async function readInfo(client) {
    const reports = await readAttrs(client, [
        { endpoint: 0, cluster: BasicInformation, attributes: ["vendorName", "productName", "vendorId", "productId", "uniqueId"] },
        { endpoint: 0, cluster: OperationalCredentials, attributes: ["commissionedFabrics"] },
        { endpoint: 1, cluster: OnOff, attributes: ["onOff"] },
    ]);
    return {
        VendorName: pick(reports, BasicInformation, "vendorName", 0),
        ProductName: pick(reports, BasicInformation, "productName", 0),
        VendorID: pick(reports, BasicInformation, "vendorId", 0),
        ProductID: pick(reports, BasicInformation, "productId", 0),
        UniqueID: pick(reports, BasicInformation, "uniqueId", 0),
        OnOff: pick(reports, OnOff, "onOff", 1),
        CommissionedFabrics: pick(reports, OperationalCredentials, "commissionedFabrics", 0),
    };
}

async function readOnOff(client) {
    return pick(await readAttrs(client, [{ endpoint: 1, cluster: OnOff, attributes: ["onOff"] }]), OnOff, "onOff", 1);
}

async function invokeToggle(client) {
    const request = Invoke({ commands: [Invoke.ConcreteCommandRequest({ endpoint: 1, cluster: OnOff, command: "toggle" })] });
    for await (const chunk of client.interaction.invoke(request)) {
        for await (const r of chunk) {
            if (r.kind === "cmd-status" && r.status !== 0) throw new Error(`toggle status ${r.status}`);
        }
    }
}

// An enhanced commissioning window: a fresh random passcode, its SPAKE2+ verifier sent in a timed invoke.
async function openWindow(client) {
    const crypto = controller.env.get(Crypto);
    const passcode = PaseClient.generateRandomPasscode(crypto);
    const discriminator = Number(flags.discriminator ?? 3842);
    const iterations = Number(flags.iterations ?? 1000);
    const window = Number(flags.window ?? 300);
    const salt = crypto.randomBytes(32);
    const verifier = await PaseClient.generatePakePasscodeVerifier(crypto, passcode, { iterations, salt });
    const request = Invoke({
        commands: [
            Invoke.ConcreteCommandRequest({
                endpoint: 0,
                cluster: AdministratorCommissioning,
                command: "openCommissioningWindow",
                fields: { commissioningTimeout: window, pakePasscodeVerifier: verifier, discriminator, iterations, salt },
            }),
        ],
        timed: true,
        timeout: Seconds(10),
    });
    for await (const chunk of client.interaction.invoke(request)) {
        for await (const r of chunk) {
            if (r.kind === "cmd-status" && r.status !== 0) throw new Error(`openCommissioningWindow status ${r.status}`);
        }
    }
    return {
        passcode,
        discriminator,
        window_s: window,
        manual_code: ManualPairingCodeCodec.encode({ discriminator, passcode }),
    };
}

async function expireSessions(client) {
    const sessions = controller.env.get(SessionManager);
    let n = 0;
    for (const s of sessions.sessionsFor(client.peerAddress)) {
        await s.initiateForceClose({ cause: new Error("expired by controller.mjs --expire") });
        n++;
    }
    return n;
}

const waitFile = async (path, maxMs) => {
    const end = performance.now() + maxMs;
    while (!existsSync(path) && performance.now() < end) await new Promise(r => setTimeout(r, 100));
    return existsSync(path);
};

// ---- operations --------------------------------------------------------------------------------------------
async function run(res) {
    if (op === "commission") {
        if (flags.ip === undefined || flags.passcode === undefined) throw new Error("--ip and --passcode required");
        const ip = String(flags.ip);
        const port = Number(flags.port ?? 5540);
        const att = await setupAttestation();
        res.attestation = att.info;
        // The commissioner's CASE step looks the new node up by operational mDNS; seed the known address as
        // the peer's operational address so commissioning also completes when mDNS gives no answer.
        controller.env.get(PeerSet).added.on(peer => {
            if (peer.descriptor.operationalAddress === undefined && !flags["no-address-hint"]) {
                peer.descriptor.operationalAddress = { type: "udp", ip, port };
                res.address_hint = `${ip}:${port}`;
            }
        });
        const client = await controller.peers.forDescriptor({ addresses: [{ type: "udp", ip, port }] });
        await withTimeout(
            Math.max(timeoutMs, 60_000),
            client.commission({
                passcode: Number(flags.passcode),
                nodeId: flags["node-id"] !== undefined ? NodeId(BigInt(flags["node-id"])) : undefined,
                autoSubscribe: false,
                onAttestationFailure: att.policy,
                regulatoryCountryCode: "XX",
            }),
            "commissioning",
        );
        res.node_id = client.peerAddress?.nodeId?.toString();
        res.fabric_index = client.peerAddress?.fabricIndex;
        res.addresses = client.state.commissioning.addresses;
        return;
    }
    const client = pickNode();
    res.node_id = client.peerAddress.nodeId.toString();
    if (op === "read") {
        res.value = await withTimeout(timeoutMs, readInfo(client), "read");
    } else if (op === "toggle") {
        const before = await withTimeout(timeoutMs, readOnOff(client), "read before");
        await withTimeout(timeoutMs, invokeToggle(client), "toggle");
        const after = await withTimeout(timeoutMs, readOnOff(client), "read after");
        Object.assign(res, { before, after });
        if (after === before) throw new Error(`OnOff did not change (${before} -> ${after})`);
    } else if (op === "open-window") {
        Object.assign(res, await withTimeout(timeoutMs, openWindow(client), "open-window"));
    } else if (op === "reconnect") {
        const cycles = Math.min(Math.max(1, Number(flags.cycles ?? 2)), 100);
        const trigTimeout = Number(flags["trigger-timeout"] ?? 120) * 1000;
        const retries = Math.min(Math.max(0, Number(flags.retries ?? 1)), 5);
        const cases = [];
        let allOk = true;
        let failedAttempts = 0;
        for (let i = 1; i <= cycles; i++) {
            if (i > 1 && flags.trigger) {
                const path = `${flags.trigger}.${i}`;
                emit("WAIT", { op: "reconnect", read_no: i, trigger: path, max_s: trigTimeout / 1000 });
                if (!(await waitFile(path, trigTimeout))) {
                    emit("RESULT", { op: "read", read_no: i, ok: false, error: `trigger ${path} not seen` });
                    allOk = false;
                    break;
                }
            }
            const expired = flags.expire ? await expireSessions(client) : undefined;
            let r;
            for (let attempt = 1; attempt <= retries + 1; attempt++) {
                r = { op: "read", read_no: i, attempt, node_id: res.node_id, expired_sessions: expired };
                const mark = events.length;
                const t = performance.now();
                try {
                    r.value = await withTimeout(timeoutMs, readInfo(client), `read ${i}`);
                    r.ok = true;
                } catch (e) {
                    r.ok = false;
                    r.error = String(e?.message ?? e).slice(0, 300);
                    failedAttempts++;
                }
                r.elapsed_ms = since(t);
                Object.assign(r, sessionSummary(events, mark));
                emit("RESULT", r);
                if (r.ok) break;
            }
            if (r.ok) cases.push(r.case);
            else allOk = false;
        }
        Object.assign(res, { cycles, cases, failed_attempts: failedAttempts });
        if (!allOk) throw new Error("at least one read failed");
    }
}

const res = { op };
const mark = events.length;
const t0 = performance.now();
let ok = false;
try {
    await run(res);
    ok = true;
} catch (e) {
    res.error = String(e?.message ?? e).slice(0, 300);
}
res.ok = ok;
res.elapsed_ms = since(t0);
if (op !== "reconnect") Object.assign(res, sessionSummary(events, mark));
res.log = logFile;
emit("RESULT", res);
await withTimeout(10_000, controller.close(), "close").catch(() => {});
process.exit(ok ? 0 : 1);
