// matter.js 0.17.9 reference device: an OnOff light (endpoint 1) to commission and exercise.
// Run it only inside the device network namespace (it sends mDNS): the harness starts it with in-ns.sh.
//
//   --dev-passcode N        setup passcode            (default 20202021)
//   --dev-discriminator N   long discriminator        (default 3840)
//   --dev-port N            UDP port                  (default 5540)
//   --dev-state DIR         storage (fabrics, ACLs, resumption records); same DIR = same commissioned device
//                           (default $INTEROP_HOME/state)
//   --dev-max-seconds S     exits by itself after S seconds (default 900)
//   --dev-log FILE          matter.js log (default $INTEROP_HOME/logs/device-<time>-<pid>.log, "-" = stdout)
//   --dev-log-level L       debug|info|notice|warn|error (default info)
//
// stdout: one line per event, "EVENT {json}": start, online (pairing codes, commissioned, fabrics = count), session (PASE / CASE-new /
// CASE-resumed, responder side), commissioned, fabrics, onoff, stopped. SIGTERM/SIGINT = clean shutdown.

import { emit, lifetimeGuard, loadMatter, parseFlags, sessionProbe, stamp, HOME } from "./common.mjs";

const { flags } = parseFlags();
const passcode = Number(flags["dev-passcode"] ?? 20202021);
const discriminator = Number(flags["dev-discriminator"] ?? 3840);
const port = Number(flags["dev-port"] ?? 5540);
const maxSeconds = Number(flags["dev-max-seconds"] ?? 900);
const stateDir = flags["dev-state"] ?? `${HOME}/state`;
const logFile = flags["dev-log"] ?? `${HOME}/logs/device-${stamp()}-${process.pid}.log`;
lifetimeGuard(maxSeconds, "device");

const matter = await loadMatter({ stateDir, logFile, level: flags["dev-log-level"] ?? "info" });
const { ServerNode, VendorId, DeviceTypeId } = matter;
const { OnOffLightDevice } = await import("@matter/main/devices/on-off-light");
sessionProbe(matter, (kind, role) => emit("EVENT", { event: "session", kind, role }));

emit("EVENT", { event: "start", pid: process.pid, port, passcode, discriminator, state: matter.stateDir, log: logFile });

const node = await ServerNode.create({
    id: "reference-device",
    network: { port },
    commissioning: { passcode, discriminator },
    productDescription: { name: "Reference Light", deviceType: DeviceTypeId(OnOffLightDevice.deviceType) },
    basicInformation: {
        vendorName: "micromatter interop",
        vendorId: VendorId(0xfff1),
        productName: "Reference OnOff Light",
        productLabel: "Reference OnOff Light",
        productId: 0x8000,
        nodeLabel: "reference light",
        serialNumber: "ref-0001",
        uniqueId: "micromatter-interop-ref-0001",
    },
});
const light = await node.add(OnOffLightDevice, { id: "light" });
light.events.onOff.onOff$Changed.on(value => emit("EVENT", { event: "onoff", value }));

const fabrics = () =>
    Object.values(node.state.operationalCredentials.fabrics ?? {}).map(f => ({
        index: f.fabricIndex,
        fabricId: f.fabricId,
        nodeId: f.nodeId,
        vendorId: f.vendorId,
        label: f.label,
    }));
node.lifecycle.commissioned.on(() => emit("EVENT", { event: "commissioned" }));
node.events.operationalCredentials.commissionedFabrics$Changed.on(n =>
    emit("EVENT", { event: "fabrics", count: n, fabrics: fabrics() }),
);
node.lifecycle.online.on(() => {
    const { manualPairingCode, qrPairingCode } = node.state.commissioning.pairingCodes;
    emit("EVENT", {
        event: "online",
        commissioned: node.lifecycle.isCommissioned,
        fabrics: fabrics().length,
        fabric_list: fabrics(),
        port,
        manual_code: manualPairingCode,
        qr_code: qrPairingCode,
    });
});

await node.run(); // returns after SIGTERM / SIGINT (matter.js closes the node cleanly)
emit("EVENT", { event: "stopped" });
process.exit(0); // do not linger on open handles
