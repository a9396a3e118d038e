"""Damages a kiln checkpoint the ways a disk, a copy or a hand edit can: `flip` flips one bit of
the last tensor's last byte (the data no longer matches its checksum); `nan` sets the first
element of tensor NAME to NaN and drops the checksum (so only the value check can find it);
`meta KEY VALUE` sets a metadata entry. Standard library only.
usage: damage_checkpoint.py SRC DST flip | nan NAME | meta KEY VALUE"""
import json
import struct
import sys

src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
data = bytearray(open(src, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
body = data[8 + n:]
meta = header.setdefault("__metadata__", {})
if mode == "flip":
    body[-1] ^= 0x40
elif mode == "nan":
    begin = header[sys.argv[4]]["data_offsets"][0]
    body[begin:begin + 4] = struct.pack("<f", float("nan"))
    meta.pop("kiln.crc32c", None)
elif mode == "meta":
    meta[sys.argv[4]] = sys.argv[5]
else:
    sys.exit("unknown mode " + mode)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + body)
