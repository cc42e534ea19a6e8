//! CRC-32C (Castagnoli), the checksum of the journal's records.
//!
//! A checksum is what lets a node tell a record it wrote from bytes that
//! merely look like one: a flipped bit, a block of zeros a power cut left
//! behind, the tail of an older file. CRC-32C is the checksum of iSCSI,
//! ext4's metadata and LevelDB's log; it detects every burst of errors up
//! to 32 bits long, and any other change but one in 2^32.
//!
//! It is computed a byte at a time from a table built at compile time: a
//! journal record is read once at start and written once, so the few
//! hundred megabytes a second this gives are far more than a disk that
//! syncs every write can take. A production system would use the
//! processor's CRC32 instruction (SSE 4.2, ARMv8), which needs `unsafe` or
//! a dependency; neither is worth it here.

/// The CRC-32C polynomial, bits reversed.
const POLYNOMIAL: u32 = 0x82F6_3B78;

/// The remainder of every byte value, computed once, at compile time.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut remainder = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            remainder = if remainder & 1 == 1 {
                (remainder >> 1) ^ POLYNOMIAL
            } else {
                remainder >> 1
            };
            bit += 1;
        }
        table[byte] = remainder;
        byte += 1;
    }
    table
};

/// The CRC-32C of `bytes`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        // The low byte of the running remainder picks the table entry; the
        // cast keeps exactly that byte.
        TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::crc32c;

    /// The check value every CRC-32C implementation is tested against
    /// (RFC 3720, and the catalogue of parametrised CRCs: "123456789").
    #[test]
    fn the_standard_check_value_comes_out() {
        assert_eq!(
            crc32c(b"123456789"),
            0xE306_9283,
            "CRC-32C of \"123456789\" must be the catalogue's check value"
        );
    }

    /// RFC 3720, appendix B.4: 32 bytes of zeros.
    #[test]
    fn thirty_two_zeros_match_the_rfc() {
        assert_eq!(
            crc32c(&[0; 32]),
            0x8A91_36AA,
            "CRC-32C of 32 zero bytes must match RFC 3720, B.4"
        );
    }

    /// One flipped bit anywhere changes the checksum.
    #[test]
    fn every_single_bit_flip_is_seen() {
        let record = b"a journal record of some length, with a payload".to_vec();
        let original = crc32c(&record);
        for position in 0..record.len() * 8 {
            let mut flipped = record.clone();
            flipped[position / 8] ^= 1 << (position % 8);
            assert_ne!(
                crc32c(&flipped),
                original,
                "flipping bit {position} went unseen"
            );
        }
    }
}
