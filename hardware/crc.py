"""CRC16/Modbus (poly 0xA001 reflected, init 0xFFFF), used by our LED frame and Modbus RTU."""

from __future__ import annotations

__all__ = ["crc16_modbus", "crc16_bytes"]


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()


def crc16_modbus(data: bytes) -> int:
    """CRC16/Modbus of `data` as an int (check vector: 01 03 00 00 00 01 -> 0x0A84)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def crc16_bytes(data: bytes) -> bytes:
    """The CRC as sent on the wire: low byte first."""
    return crc16_modbus(data).to_bytes(2, "little")
