// Helpers shared by device.mjs and controller.mjs (matter.js 0.17.9).
// INTEROP_HOME is the process's home directory: state and logs go below it.
// Output convention: machine-readable lines "TAG {json}" on stdout; the matter.js log goes to a file.

import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";

export const HOME = process.env.INTEROP_HOME ?? ".";

/** "--key value", "--key=value" and bare "--flag" (true); everything else is positional. */
export function parseFlags(argv = process.argv.slice(2)) {
    const flags = {};
    const positional = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith("--")) {
            positional.push(a);
            continue;
        }
        const eq = a.indexOf("=");
        if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
        else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags[a.slice(2)] = argv[++i];
        else flags[a.slice(2)] = true;
    }
    return { flags, positional };
}

function replacer(_key, value) {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
    return value;
}

export function emit(tag, obj) {
    console.log(`${tag} ${JSON.stringify(obj, replacer)}`);
}

export const since = t => Math.round(performance.now() - t);

/**
 * Point matter.js storage at stateDir, keep it from reading argv / config files, send its log to logFile,
 * and import it. Must run before anything else imports @matter/*.
 */
export async function loadMatter({ stateDir, logFile, level = "info" }) {
    const dir = resolve(stateDir);
    mkdirSync(dir, { recursive: true });
    process.env.MATTER_PATH_ROOT = dir;
    process.env.MATTER_STORAGE_PATH = dir;
    const { config } = await import("@matter/nodejs/config");
    config.loadProcessArgv = false; // matter.js would otherwise treat our --flags as its own settings
    config.loadConfigFile = false;

    const main = await import("@matter/main");
    const protocol = await import("@matter/main/protocol");
    const clusters = await import("@matter/main/clusters");
    const { Logger } = main;
    Logger.format = "plain";
    Logger.level = level;
    if (logFile !== "-") {
        mkdirSync(dirname(resolve(logFile)), { recursive: true });
        const fd = openSync(logFile, "a");
        Logger.destinations.default.write = text => writeSync(fd, text + "\n");
        process.on("exit", () => closeSync(fd));
    }
    return { ...main, protocol, clusters, stateDir: dir };
}

/**
 * Watch the matter.js log for secure-session milestones (matter.js 0.17.9 messages):
 *   PaseClient "Paired successfully" / PaseServer "Received pairing request"      -> PASE
 *   CaseClient|CaseServer "New session with"                                      -> CASE-new
 *   CaseClient|CaseServer "Resumed session with"                                  -> CASE-resumed
 * onEvent(kind, role) is called for each; the returned array holds them all in order.
 */
export function sessionProbe(matter, onEvent) {
    const { Logger, LogDestination, LogLevel, LogFormat } = matter;
    const events = [];
    Logger.destinations.interopprobe = LogDestination({
        name: "interopprobe",
        level: LogLevel.INFO,
        format: LogFormat("plain"),
        write(text, message) {
            const f = message.facility;
            let kind;
            if (f === "PaseClient" && text.includes("Paired successfully")) kind = "PASE";
            else if (f === "PaseServer" && text.includes("Received pairing request")) kind = "PASE";
            else if ((f === "CaseClient" || f === "CaseServer") && text.includes("Resumed session with"))
                kind = "CASE-resumed";
            else if ((f === "CaseClient" || f === "CaseServer") && text.includes("New session with")) kind = "CASE-new";
            if (kind === undefined) return;
            const role = f.endsWith("Client") ? "initiator" : "responder";
            events.push({ kind, role });
            onEvent?.(kind, role);
        },
    });
    return events;
}

/** Summarise probe events recorded since index `from`. */
export function sessionSummary(events, from) {
    const ev = events.slice(from).map(e => e.kind);
    return {
        pase: ev.includes("PASE"),
        case: ev.includes("CASE-resumed") ? "resumed" : ev.includes("CASE-new") ? "new" : "reused",
    };
}

/** Hard upper bound on the process lifetime: SIGTERM ourselves (clean matter.js shutdown), exit 10 s later. */
export function lifetimeGuard(seconds, label) {
    const t = setTimeout(() => {
        emit("EVENT", { event: "lifetime-exceeded", label, seconds: Number(seconds) });
        process.exitCode = 3;
        process.kill(process.pid, "SIGTERM");
        setTimeout(() => process.exit(3), 10_000).unref();
    }, Math.max(1, Number(seconds)) * 1000);
    t.unref();
}

export async function withTimeout(ms, promise, what) {
    let timer;
    try {
        return await Promise.race([
            promise,
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
            }),
        ]);
    } finally {
        clearTimeout(timer);
    }
}

export const stamp = () => new Date().toISOString().slice(11, 19).replaceAll(":", "");
