namespace LowRank.Unit;

/// <summary>CRC-32 (IEEE 802.3), as LowRank's framed formats end in: tests use it to forge files whose checksum is
/// valid, so that the field checks behind the checksum are exercised.</summary>
internal static class Crc32
{
    public static uint Of(System.ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>The bytes with their last four replaced by the CRC-32 of the others.</summary>
    public static byte[] Resealed(byte[] bytes)
    {
        System.BitConverter.GetBytes(Of(new System.ReadOnlySpan<byte>(bytes, 0, bytes.Length - 4))).CopyTo(bytes, bytes.Length - 4);
        return bytes;
    }
}
