//! Media containers for recording and streaming live lectures, in plain Rust with no C libraries.
//!
//! - [`webm`]: a WebM muxer for VP8 video and Opus audio whose output stays playable when the process dies
//!   mid-way (unknown sizes until [`webm::Writer::finish`]), [`webm::recover`] to finish such a file after a
//!   crash, [`webm::Writer::resume`] to carry on writing one (a live lecture whose room closed and reopened,
//!   or a restart), and [`webm::probe`] to read one back.
//! - [`ogg`]: Ogg/Opus pages for a live audio stream over plain HTTP, one numbering per listener.
//! - [`vp8`]: RTP depacketisation of VP8 (RFC 7741) into whole frames for the muxer.
#![forbid(unsafe_code)]

mod ebml;
pub mod ogg;
pub mod vp8;
pub mod webm;
