//! Ogg/Opus pages (RFC 3533, RFC 7845) for a live audio stream served over plain HTTP.
//!
//! Every listener joins mid-way, so each gets its own [`OpusStream`]: its own headers, page numbers from 0
//! and a granule position the caller starts near 0.

/// Opus pre-skip in 48 kHz samples, what libopus encoders report (and WebRTC senders use).
pub(crate) const OPUS_PRE_SKIP: u16 = 312;

const FLAG_CONTINUED: u8 = 0x01;
const FLAG_BOS: u8 = 0x02;
/// Lacing values a page can hold.
const MAX_SEGMENTS: usize = 255;
/// The granule position of a page on which no packet ends.
const NO_GRANULE: u64 = u64::MAX;

/// One listener's Ogg/Opus stream.
#[derive(Debug, Clone)]
pub struct OpusStream {
    serial: u32,
    channels: u8,
    /// The next page's sequence number; the two header pages are 0 and 1.
    sequence: u32,
}

impl OpusStream {
    /// A stereo stream (WebRTC negotiates `opus/48000/2`; mono packets decode fine as stereo).
    pub fn new(serial: u32) -> Self {
        Self::with_channels(serial, 2)
    }

    /// A stream announcing `channels` (1 or 2) in its OpusHead.
    pub fn with_channels(serial: u32, channels: u8) -> Self {
        Self {
            serial,
            channels,
            sequence: 2,
        }
    }

    /// The first bytes a listener gets: the OpusHead page (beginning of stream, page 0) and the OpusTags
    /// page (page 1, vendor "quorum"). Audio pages from [`Self::page`] are numbered from 2.
    pub fn headers(&self) -> Vec<u8> {
        let mut out = build_page(self.serial, 0, FLAG_BOS, 0, &lacing(19), &opus_head(self.channels));
        let tags = opus_tags();
        out.extend(build_page(self.serial, 1, 0, 0, &lacing(tags.len()), &tags));
        out
    }

    /// One Opus packet as one page (or, beyond 64 KiB, as continued pages). `granule` is the position
    /// at the end of this packet in 48 kHz samples, counting the 312 samples of pre-skip; the first page's
    /// must be at least its packet's sample count (e.g. 312 + 960 for a first 20 ms packet).
    pub fn page(&mut self, packet: &[u8], granule: u64) -> Vec<u8> {
        let lacing = lacing(packet.len());
        let groups = lacing.chunks(MAX_SEGMENTS).count();
        let mut out = Vec::new();
        let mut offset = 0;
        for (i, group) in lacing.chunks(MAX_SEGMENTS).enumerate() {
            let size: usize = group.iter().map(|&l| usize::from(l)).sum();
            let flags = if i > 0 { FLAG_CONTINUED } else { 0 };
            let granule = if i + 1 == groups { granule } else { NO_GRANULE };
            let data = &packet[offset..offset + size];
            out.extend(build_page(self.serial, self.sequence, flags, granule, group, data));
            self.sequence = self.sequence.wrapping_add(1);
            offset += size;
        }
        out
    }
}

/// The OpusHead identification header (RFC 7845 §5.1), also WebM's Opus CodecPrivate.
pub(crate) fn opus_head(channels: u8) -> [u8; 19] {
    let mut head = [0u8; 19];
    head[..8].copy_from_slice(b"OpusHead");
    head[8] = 1; // version
    head[9] = channels;
    head[10..12].copy_from_slice(&OPUS_PRE_SKIP.to_le_bytes());
    head[12..16].copy_from_slice(&48_000u32.to_le_bytes()); // input sample rate, informational
    // Output gain 0 and channel mapping family 0 (mono or stereo) stay zero.
    head
}

fn opus_tags() -> Vec<u8> {
    let vendor = b"quorum";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes()); // no user comments
    tags
}

/// Lacing values for one packet: 255 per full segment, then the remainder (0 if it divides evenly).
fn lacing(len: usize) -> Vec<u8> {
    let mut values = vec![255u8; len / 255];
    values.push((len % 255) as u8);
    values
}

fn build_page(serial: u32, sequence: u32, flags: u8, granule: u64, lacing: &[u8], data: &[u8]) -> Vec<u8> {
    let mut page = Vec::with_capacity(27 + lacing.len() + data.len());
    page.extend_from_slice(b"OggS");
    page.push(0); // version
    page.push(flags);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&sequence.to_le_bytes());
    page.extend_from_slice(&[0; 4]); // CRC, computed over the page with this field zero
    page.push(lacing.len() as u8);
    page.extend_from_slice(lacing);
    page.extend_from_slice(data);
    let crc = crc32(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04C1_1DB7
            } else {
                r << 1
            };
            bit += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
}

/// Ogg's CRC-32: polynomial 0x04C11DB7, most significant bit first, initial value 0, no final XOR.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    data.iter()
        .fold(0, |crc, &b| (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ b)])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Bit by bit, straight from the definition, to check the table.
    fn slow_crc(data: &[u8]) -> u32 {
        let mut crc = 0u32;
        for &byte in data {
            crc ^= u32::from(byte) << 24;
            for _ in 0..8 {
                crc = if crc & 0x8000_0000 != 0 {
                    (crc << 1) ^ 0x04C1_1DB7
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    /// Splits a byte stream into pages, checking each page's CRC; returns (flags, granule, seq, data).
    fn pages(mut bytes: &[u8]) -> Vec<(u8, u64, u32, Vec<u8>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            assert_eq!(&bytes[..4], b"OggS");
            let segments = usize::from(bytes[26]);
            let data_len: usize = bytes[27..27 + segments].iter().map(|&l| usize::from(l)).sum();
            let len = 27 + segments + data_len;
            let mut zeroed = bytes[..len].to_vec();
            zeroed[22..26].fill(0);
            assert_eq!(u32::from_le_bytes(bytes[22..26].try_into().unwrap()), slow_crc(&zeroed));
            let granule = u64::from_le_bytes(bytes[6..14].try_into().unwrap());
            let seq = u32::from_le_bytes(bytes[18..22].try_into().unwrap());
            out.push((bytes[5], granule, seq, bytes[27 + segments..len].to_vec()));
            bytes = &bytes[len..];
        }
        out
    }

    #[test]
    fn crc_matches_the_known_check_value_and_a_bitwise_implementation() {
        // CRC-32/CKSUM's check value is 0x765E7680; Ogg's variant is the same without the final XOR.
        assert_eq!(crc32(b"123456789"), 0x765E_7680 ^ 0xFFFF_FFFF);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(crc32(&data), slow_crc(&data));
        assert_eq!(crc32(b"OggS"), slow_crc(b"OggS"));
    }

    #[test]
    fn headers_are_pages_0_and_1_and_audio_pages_follow() {
        let mut stream = OpusStream::new(0x1234_5678);
        let headers = pages(&stream.headers());
        assert_eq!(headers.len(), 2);
        assert_eq!((headers[0].0, headers[0].1, headers[0].2), (FLAG_BOS, 0, 0));
        assert_eq!(&headers[0].3[..8], b"OpusHead");
        assert_eq!(headers[0].3[9], 2);
        assert_eq!(u16::from_le_bytes([headers[0].3[10], headers[0].3[11]]), 312);
        assert_eq!(headers[1].2, 1);
        assert_eq!(&headers[1].3[..8], b"OpusTags");
        assert_eq!(&headers[1].3[12..18], b"quorum");
        let audio = pages(
            &[
                stream.page(&[0xFC; 80], 312 + 960),
                stream.page(&[0xFC; 510], 312 + 1920),
            ]
            .concat(),
        );
        assert_eq!(
            audio.iter().map(|p| (p.0, p.1, p.2, p.3.len())).collect::<Vec<_>>(),
            [(0, 1272, 2, 80), (0, 2232, 3, 510)]
        );
    }

    #[test]
    fn a_packet_beyond_one_page_continues_on_the_next() {
        let mut stream = OpusStream::new(7);
        let packet: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let parts = pages(&stream.page(&packet, 5000));
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].0, parts[0].1), (0, u64::MAX));
        assert_eq!((parts[1].0, parts[1].1, parts[1].2), (FLAG_CONTINUED, 5000, 3));
        assert_eq!([parts[0].3.clone(), parts[1].3.clone()].concat(), packet);
    }

    #[test]
    fn each_listener_numbers_its_own_pages() {
        let mut first = OpusStream::new(1);
        first.page(&[1, 2, 3], 1272);
        let mut second = OpusStream::new(2);
        let page = second.page(&[1, 2, 3], 312);
        assert_eq!(u32::from_le_bytes(page[18..22].try_into().unwrap()), 2);
    }
}
