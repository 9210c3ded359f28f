# micromatter on an ESP32: boot into a Matter On/Off light (copied to / by tools/deploy).
#
# 1. read /micromatter.json (tools/provision wrote it: Wi-Fi, GPIO, discriminator, PASE verifier, ids)
# 2. join the Wi-Fi network
# 3. open the node's storage (littlefs directory or NVS), install /micromatter.att there on first boot
# 4. start the light: pairing codes on the console while uncommissioned, the GPIO follows On/Off and
#    blinks for Identify.  Ctrl-C at the REPL stops the node cleanly (sessions closed, mDNS goodbyes).
import gc
import sys

from micromatter import log
from micromatter.errors import MatterError
from micromatter_board import attestation, config, wifi


def main():
    board = config.load(config.CONFIG_PATH)
    light = None
    if board.light_pin is not None:
        from micromatter_board.light import Light

        light = Light(board.light_pin, board.light_active_low)
    log.info("board", "joining Wi-Fi %r" % board.ssid)
    wlan = wifi.connect(board.ssid, board.password, board.hostname)
    interface = wifi.BoardInterface(wlan)
    ipv4, ipv6 = interface.addresses(interface.NAME)

    from micromatter_mp.port import Port
    from micromatter_mp.device import run_board

    port = Port()
    storage = port.open_storage(board.storage)
    if attestation.install(storage, attestation.ATTESTATION_PATH):
        log.info("board", "attestation material installed into %s" % board.storage)
    material = attestation.load(port.crypto, storage, board.vendor_id, board.product_id)
    device_config = board.device_config(material, host=interface.mac(interface.NAME), ipv4=ipv4, ipv6=ipv6)
    gc.collect()
    log.info("board", "heap free %d B before the node starts" % gc.mem_free())
    run_board(device_config, storage, interface, light.on_event if light is not None else None)


try:
    main()
except (MatterError, OSError) as e:
    # A board that cannot run says why on the console and stays at the REPL (no reboot loop).
    sys.print_exception(e)
    print("micromatter did not start: %r" % e)
except MemoryError as e:
    sys.print_exception(e)
    print("micromatter did not start: not enough heap (%d B free); a board with PSRAM or a frozen firmware "
          "is needed (boards/esp32/README.md)" % gc.mem_free())
