//! EBML primitives shared by the WebM writer and reader: element IDs, variable-length sizes, builders.

pub(crate) const EBML: u32 = 0x1A45_DFA3;
pub(crate) const EBML_VERSION: u32 = 0x4286;
pub(crate) const EBML_READ_VERSION: u32 = 0x42F7;
pub(crate) const EBML_MAX_ID_LENGTH: u32 = 0x42F2;
pub(crate) const EBML_MAX_SIZE_LENGTH: u32 = 0x42F3;
pub(crate) const DOC_TYPE: u32 = 0x4282;
pub(crate) const DOC_TYPE_VERSION: u32 = 0x4287;
pub(crate) const DOC_TYPE_READ_VERSION: u32 = 0x4285;
pub(crate) const VOID: u32 = 0xEC;

pub(crate) const SEGMENT: u32 = 0x1853_8067;
pub(crate) const SEEK_HEAD: u32 = 0x114D_9B74;
pub(crate) const SEEK: u32 = 0x4DBB;
pub(crate) const SEEK_ID: u32 = 0x53AB;
pub(crate) const SEEK_POSITION: u32 = 0x53AC;
pub(crate) const INFO: u32 = 0x1549_A966;
pub(crate) const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
pub(crate) const DURATION: u32 = 0x4489;
pub(crate) const MUXING_APP: u32 = 0x4D80;
pub(crate) const WRITING_APP: u32 = 0x5741;
pub(crate) const TRACKS: u32 = 0x1654_AE6B;
pub(crate) const TRACK_ENTRY: u32 = 0xAE;
pub(crate) const TRACK_NUMBER: u32 = 0xD7;
pub(crate) const TRACK_UID: u32 = 0x73C5;
pub(crate) const TRACK_TYPE: u32 = 0x83;
pub(crate) const FLAG_LACING: u32 = 0x9C;
pub(crate) const CODEC_ID: u32 = 0x86;
pub(crate) const CODEC_PRIVATE: u32 = 0x63A2;
pub(crate) const CODEC_DELAY: u32 = 0x56AA;
pub(crate) const SEEK_PRE_ROLL: u32 = 0x56BB;
pub(crate) const VIDEO: u32 = 0xE0;
pub(crate) const PIXEL_WIDTH: u32 = 0xB0;
pub(crate) const PIXEL_HEIGHT: u32 = 0xBA;
pub(crate) const AUDIO: u32 = 0xE1;
pub(crate) const SAMPLING_FREQUENCY: u32 = 0xB5;
pub(crate) const CHANNELS: u32 = 0x9F;
pub(crate) const CLUSTER: u32 = 0x1F43_B675;
pub(crate) const TIMESTAMP: u32 = 0xE7;
pub(crate) const SIMPLE_BLOCK: u32 = 0xA3;
pub(crate) const CUES: u32 = 0x1C53_BB6B;
pub(crate) const CUE_POINT: u32 = 0xBB;
pub(crate) const CUE_TIME: u32 = 0xB3;
pub(crate) const CUE_TRACK_POSITIONS: u32 = 0xB7;
pub(crate) const CUE_TRACK: u32 = 0xF7;
pub(crate) const CUE_CLUSTER_POSITION: u32 = 0xF1;
pub(crate) const TAGS: u32 = 0x1254_C367;
pub(crate) const CHAPTERS: u32 = 0x1043_A770;
pub(crate) const ATTACHMENTS: u32 = 0x1941_A469;

/// An 8-byte "unknown size": being 8 bytes long, it can later be overwritten in place by the real size.
pub(crate) const UNKNOWN_SIZE_8: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

/// IDs that may follow a Cluster at Segment level; they end a Cluster of unknown size.
pub(crate) fn is_segment_child(id: u32) -> bool {
    matches!(
        id,
        CLUSTER | CUES | SEEK_HEAD | INFO | TRACKS | TAGS | CHAPTERS | ATTACHMENTS
    )
}

pub(crate) fn put_id(buf: &mut Vec<u8>, id: u32) {
    let skip = (id.leading_zeros() / 8).min(3) as usize;
    buf.extend_from_slice(&id.to_be_bytes()[skip..]);
}

/// `value` as a size of exactly `len` bytes, or None if it does not fit (all ones would mean "unknown").
pub(crate) fn size_fixed(value: u64, len: usize) -> Option<Vec<u8>> {
    if !(1..=8).contains(&len) || value > (1u64 << (7 * len)) - 2 {
        return None;
    }
    let marked = value | (1u64 << (7 * len));
    Some(marked.to_be_bytes()[8 - len..].to_vec())
}

pub(crate) fn put_size(buf: &mut Vec<u8>, value: u64) {
    // Sizes beyond 2^56 cannot occur for data held in memory; "unknown" is the only honest fallback.
    let bytes = (1..=8)
        .find_map(|len| size_fixed(value, len))
        .unwrap_or(UNKNOWN_SIZE_8.to_vec());
    buf.extend_from_slice(&bytes);
}

pub(crate) fn element(buf: &mut Vec<u8>, id: u32, data: &[u8]) {
    put_id(buf, id);
    put_size(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

pub(crate) fn uint(buf: &mut Vec<u8>, id: u32, value: u64) {
    let skip = (value.leading_zeros() / 8).min(7) as usize;
    element(buf, id, &value.to_be_bytes()[skip..]);
}

pub(crate) fn float(buf: &mut Vec<u8>, id: u32, value: f64) {
    element(buf, id, &value.to_be_bytes());
}

/// A Void element of exactly `len` bytes (at least 2), used to reserve space that is patched later.
pub(crate) fn void(len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0xEC];
    match len {
        0..=1 => return None,
        2..=128 => buf.push(0x80 | (len - 2) as u8),
        _ => buf.extend(size_fixed(len as u64 - 9, 8)?),
    }
    buf.resize(len, 0);
    Some(buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_the_shortest_form_and_fixed_forms_fit_or_refuse() {
        let mut buf = Vec::new();
        put_size(&mut buf, 126);
        put_size(&mut buf, 127);
        assert_eq!(buf, [0xFE, 0x40, 0x7F]);
        assert_eq!(size_fixed(5, 8).unwrap(), [1, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(size_fixed(127, 1), None);
    }

    #[test]
    fn void_has_the_requested_length() {
        for len in 2..300 {
            assert_eq!(void(len).unwrap().len(), len);
        }
        assert_eq!(void(1), None);
    }
}
