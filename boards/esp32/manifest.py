# Firmware manifest: MicroPython's own frozen modules for the port (asyncio among them) plus micromatter.
#
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=<checkout>/boards/esp32/manifest.py      (ESP32_GENERIC_S3, _C3)
#
# Frozen modules run from flash: their bytecode, strings and constant tuples cost no heap (copied .mpy files
# load all of that into the GC heap).  Paths are relative to this file, as the manifest tools resolve them.
include("$(PORT_DIR)/boards/manifest.py")

package("micromatter", base_path="../../shared", opt=1)
package("micromatter_mp", base_path="../../mp", opt=1)
package("micromatter_board", base_path=".", opt=1)
