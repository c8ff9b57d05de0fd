//! Which video a viewer's link can carry, and when a viewer may change layer.
//!
//! A lecturer's browser publishes the camera in up to three layers (simulcast: about 180p, 360p and
//! 720p). For each viewer the SFU keeps a [`LinkPolicy`], fed with the loss her browser reports on
//! the camera (RTCP receiver reports, several a second from Chrome: about every 200 ms in the
//! browser tests; on the sound while she gets sound only),
//! which says what she should get: one of the layers, or no
//! video at all (audio only) when even the lowest does not fit. A [`LayerSwitch`] per viewer and video
//! slot then changes layer only where the new layer's decoder can start: at its keyframe.
//!
//! Why loss and not a bandwidth figure: a phone on a weak 4G link or behind a rate limit shows the
//! layer that does not fit as loss within a second or two, and receiver reports come from every
//! browser without extra negotiation. A layer that fits shows no loss but cannot show how much more
//! would fit, so going up is a trial: after a quiet spell the next layer is tried, and a trial that
//! brings loss back doubles the wait before the next one (hysteresis, so a viewer at the edge does
//! not flap between layers every second).
//!
//! While she gets sound only, the sound's receiver reports come only every five seconds or so, which
//! made the picture's return after her link recovered take 15 to 20 s. Her browser's transport-wide
//! feedback on the sound (several a second, see [`FeedbackLoss`]; negotiated for the sound only)
//! then feeds the policy instead, once a second; a browser that does not send it is judged by the
//! sound's receiver reports as before.
//!
//! Loss alone cannot tell a link a little too small for her layer from one too small for any: both
//! went to the lowest layer first, and a link that could not carry even that froze her picture for
//! the seconds it took to settle there and show loss again before she heard why. With each report
//! the SFU also measures what got through (her camera's bytes, less the loss) against what the
//! lowest layer carried meanwhile ([`DeliveredShare`]): well under it twice in a row, she goes to
//! sound only without settling on the lowest layer first.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Simulcast layers of the camera, lowest first.
pub const LAYERS: usize = 3;

/// Loss above this (in a report) is congestion: the layer does not fit.
const LOSSY: f32 = 0.10;
/// Loss above this steps down at once, without waiting for a second report.
const VERY_LOSSY: f32 = 0.25;
/// Loss above this is a link far too small for the layer: straight to the lowest one (stepping
/// down one layer at a time would leave her picture frozen for several seconds). From the lowest
/// layer, only such loss goes to sound only on one report: sound only is a bigger step than a layer
/// (its way back is slower), so lesser loss must show in two reports in a row.
const SWAMPED: f32 = 0.5;
/// Loss below this is a clean report (a few lost packets happen on any link).
const CLEAN: f32 = 0.02;
/// What got through of her video, as a share of what the lowest layer carries (see
/// `DeliveredShare`), below which even the lowest layer does not fit: two such readings in a row and
/// she goes to sound only, instead of stopping at the lowest layer first, where her picture would
/// stay frozen for the seconds it takes to settle and show loss again. Half, not one: the figure is
/// uneven (keyframes, retransmissions, the time packets spend on the way), and a link carrying
/// about the lowest layer takes the usual way through it.
const NO_ROOM: f32 = 0.5;
/// Loss above this says nothing of her link's size: nothing came for a moment (a tunnel, a cell
/// handover), which the steps for heavy loss handle.
const OUTAGE: f32 = 0.98;
/// After stepping down, loss measured while the old layer's packets drain is not held against the
/// new one. The old layer flows until the new one's keyframe, so loss is not counted at all until her
/// forwarder has actually changed layer (`LinkPolicy::forwarding`), and for this long after.
const SETTLE_AFTER_DOWN: Duration = Duration::from_secs(2);
/// The longest a step down waits for her forwarder to move before loss counts again (a lecturer who
/// sends one layer only gives it no lower layer to move to).
const MOVE_WAIT: Duration = Duration::from_secs(5);
/// Clean time before the first trial of the next layer up; doubled by each failed trial, up to
/// `MAX_UP_WAIT` (the longest a viewer waits for video once her link has recovered), and back to
/// the start once a trial holds.
const UP_WAIT: Duration = Duration::from_secs(3);
const MAX_UP_WAIT: Duration = Duration::from_secs(8);
/// A step down this soon after a step up means the trial failed.
const TRIAL: Duration = Duration::from_secs(6);

/// What a viewer's link should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// Sound only: even the lowest layer does not fit.
    AudioOnly,
    /// Video at this layer (0 = lowest) or the nearest one the lecturer sends.
    Video(usize),
}

impl Quality {
    /// As a number: -1 for audio only, else the layer (for an atomic the forwarders read).
    pub fn code(self) -> i8 {
        match self {
            Quality::AudioOnly => -1,
            Quality::Video(l) => l.min(LAYERS - 1) as i8,
        }
    }

    pub fn from_code(level: i8) -> Quality {
        if level < 0 {
            Quality::AudioOnly
        } else {
            Quality::Video((level as usize).min(LAYERS - 1))
        }
    }
}

/// One viewer's link: from loss reports to the quality she should get.
#[derive(Debug, Clone)]
pub struct LinkPolicy {
    level: i8,
    /// Consecutive lossy reports at this level.
    lossy: u8,
    /// Consecutive reports whose share of the lowest layer was too small (`NO_ROOM`).
    no_room: u8,
    /// Since when every report has been clean (None: the last one was not).
    clean_since: Option<Instant>,
    up_wait: Duration,
    last_up: Option<Instant>,
    last_down: Option<Instant>,
    /// Loss reported before `SETTLE_AFTER_DOWN` after this is not counted.
    settle_from: Option<Instant>,
    /// A step down to a layer her forwarder has not moved to yet: since when.
    pending_down: Option<Instant>,
}

impl LinkPolicy {
    /// Starts at the middle layer: good enough to see the lecturer at once, small enough that a weak
    /// link is not flooded before its first report; a good link reaches the top within seconds.
    pub fn new() -> LinkPolicy {
        LinkPolicy {
            level: 1,
            lossy: 0,
            no_room: 0,
            clean_since: None,
            up_wait: UP_WAIT,
            last_up: None,
            last_down: None,
            settle_from: None,
            pending_down: None,
        }
    }

    pub fn quality(&self) -> Quality {
        Quality::from_code(self.level)
    }

    /// A receiver report: `loss` is the fraction of packets lost since the previous one (0..=1).
    /// Returns the new quality when it changes.
    pub fn report(&mut self, now: Instant, loss: f32) -> Option<Quality> {
        self.report_with_share(now, loss, None)
    }

    /// As `report`, with what got through of her video in the report's interval as a share of what
    /// the lowest layer carried (`DeliveredShare`; None when not known).
    pub fn report_with_share(&mut self, now: Instant, loss: f32, delivered: Option<f32>) -> Option<Quality> {
        // Two readings of too little room in a row: one alone may be the report after a moment
        // with nothing at all (a tunnel, a handover), which covers the gap.
        let no_room = loss > LOSSY && loss <= OUTAGE && delivered.is_some_and(|d| d < NO_ROOM);
        if no_room {
            self.no_room = self.no_room.saturating_add(1);
        } else if delivered.is_some() || loss <= LOSSY {
            self.no_room = 0;
        }
        if loss > LOSSY {
            self.clean_since = None;
            if self
                .pending_down
                .is_some_and(|t| now.saturating_duration_since(t) >= MOVE_WAIT)
            {
                self.pending_down = None;
            }
            // Too small a link for the lowest layer. What got through measures the link whichever
            // layer was sent, so this waits for no move and no settling: it also ends a step down
            // to the lowest layer that has not settled (the first report after a limit began
            // covers a moment without it). Settled there, the lowest layer's own loss decides.
            let settling = self.pending_down.is_some()
                || self
                    .settle_from
                    .is_some_and(|t| now.saturating_duration_since(t) < SETTLE_AFTER_DOWN);
            if (self.level > 0 || self.level == 0 && settling) && self.no_room >= 2 {
                self.no_room = 0;
                return self.step_down_to(now, -1);
            }
            if self.pending_down.is_some()
                || self
                    .settle_from
                    .is_some_and(|t| now.saturating_duration_since(t) < SETTLE_AFTER_DOWN)
            {
                return None;
            }
            self.lossy = self.lossy.saturating_add(1);
            if loss > SWAMPED && self.level > 0 {
                return self.step_down_to(now, 0);
            }
            let heavy = if self.level == 0 { SWAMPED } else { VERY_LOSSY };
            // A trial of the next layer up that brings loss ends at once.
            if loss > heavy || self.lossy >= 2 || self.trying(now) {
                return self.step_down_to(now, self.level - 1);
            }
            return None;
        }
        self.lossy = 0;
        if loss >= CLEAN {
            self.clean_since = None;
            return None;
        }
        let since = *self.clean_since.get_or_insert(now);
        // A trial that held: the link has room again, the next layer is tried as soon as at first.
        if self
            .last_up
            .is_some_and(|up| self.last_down.is_none_or(|down| down < up))
            && !self.trying(now)
        {
            self.up_wait = UP_WAIT;
        }
        if self.level >= (LAYERS - 1) as i8 || now.duration_since(since) < self.up_wait {
            return None;
        }
        self.level += 1;
        self.last_up = Some(now);
        self.clean_since = Some(now);
        self.pending_down = None;
        Some(self.quality())
    }

    /// Whether the last step was up, less than `TRIAL` ago.
    fn trying(&self, now: Instant) -> bool {
        self.last_up
            .is_some_and(|up| now.duration_since(up) < TRIAL && self.last_down.is_none_or(|down| down < up))
    }

    fn step_down_to(&mut self, now: Instant, level: i8) -> Option<Quality> {
        self.lossy = 0;
        if self.level < 0 {
            return None;
        }
        if self.last_up.is_some_and(|t| now.duration_since(t) < TRIAL) {
            self.up_wait = (self.up_wait * 2).min(MAX_UP_WAIT);
        }
        self.level = level.max(-1);
        self.last_down = Some(now);
        self.settle_from = Some(now);
        // Sound only needs no move: the video stops at once.
        self.pending_down = (self.level >= 0).then_some(now);
        Some(self.quality())
    }

    /// Her camera forwarder now forwards `layer` (None: no camera at all). When that completes a step
    /// down (at or below the level stepped to), loss measured until now was the old layer's and the
    /// settling time starts now. Any other change (a move the policy did not ask for: the lecturer
    /// stopped sending a layer) changes nothing here.
    pub fn forwarding(&mut self, now: Instant, layer: Option<usize>) {
        if self
            .pending_down
            .is_some_and(|t| now.saturating_duration_since(t) < MOVE_WAIT)
            && layer.is_none_or(|l| (l as i8) <= self.level)
        {
            self.pending_down = None;
            self.settle_from = Some(now);
            self.lossy = 0;
        }
    }
}

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy::new()
    }
}

/// What got through of her camera between two receiver reports, as a share of what the lowest layer
/// the lecturer sends carried meanwhile: her link's size against the smallest picture, whichever
/// layer she got. The bytes sent to her on the camera less her loss, against the bytes the lowest
/// layer brought from the lecturer, all sampled as each report comes. The loss is the reports' own
/// running counts (packets lost, highest sequence number received) over the same interval: a
/// report's loss fraction covers only the time since her previous report, which can be a fraction
/// of the interval.
#[derive(Debug, Clone, Default)]
pub struct DeliveredShare {
    last: Option<ShareSample>,
}

#[derive(Debug, Clone, Copy)]
struct ShareSample {
    at: Instant,
    sent: u64,
    lowest: usize,
    lowest_bytes: u64,
    highest: u32,
    lost: u32,
}

/// An interval in which the lowest layer carried less than this says too little (browsers report
/// several times a second, and a keyframe in a short interval would weigh too much): the next
/// report measures from the same start. Under a second of a 180p layer (150–250 kbit/s).
const SHARE_MIN_BYTES: u64 = 16_000;
/// A start older than this is not measured from: she was not judged by her camera meanwhile (her
/// own sound-only switch, a reconnection, the screen, a muted camera), and what she was sent then
/// says nothing of what the lowest layer carried since.
const SHARE_MAX_AGE: Duration = Duration::from_secs(3);

impl DeliveredShare {
    pub fn new() -> DeliveredShare {
        DeliveredShare::default()
    }

    /// A report on her camera came `now`, when `sent` bytes had been sent to her on it in all, and
    /// the lowest layer being sent was `lowest` with this many bytes received in all (None: no layer
    /// is being sent, or the share cannot be told now). `highest` and `lost` are the report's
    /// extended highest sequence number received and cumulative packets lost. Returns the share
    /// since the last sample, when it says something.
    pub fn at(
        &mut self,
        now: Instant,
        sent: u64,
        lowest: Option<(usize, u64)>,
        highest: u32,
        lost: u32,
    ) -> Option<f32> {
        let Some((layer, bytes)) = lowest else {
            self.last = None;
            return None;
        };
        let sample = ShareSample {
            at: now,
            sent,
            lowest: layer,
            lowest_bytes: bytes,
            highest,
            lost,
        };
        let Some(before) = self.last.filter(|b| {
            b.lowest == layer
                && b.lowest_bytes <= bytes
                && b.sent <= sent
                && now.saturating_duration_since(b.at) <= SHARE_MAX_AGE
        }) else {
            // The first report, the lowest layer changed, or too long since: measured from here.
            self.last = Some(sample);
            return None;
        };
        let carried = bytes - before.lowest_bytes;
        if carried < SHARE_MIN_BYTES {
            return None;
        }
        self.last = Some(sample);
        let expected = highest.wrapping_sub(before.highest);
        if expected == 0 || expected > 0x00FF_FFFF {
            return None; // nothing new arrived, or she started counting again
        }
        // The count of packets lost is a signed 24-bit number, and it goes down when late packets
        // come (a retransmission): a drop is no loss, not a wrap.
        let lost = ((lost.wrapping_sub(before.lost) << 8) as i32) >> 8;
        let loss = (lost.max(0) as f32 / expected as f32).min(1.0);
        Some((1.0 - loss) * (sent - before.sent) as f32 / carried as f32)
    }
}

/// Loss from transport-wide feedback (a browser sends it several times a second, each naming which
/// of the recent packets arrived), as the policy takes it: once a second, the loss over the last
/// `FEEDBACK_WINDOW`. The window is longer than a second so that one report rests on enough packets
/// (the sound alone is 50 a second) for a few percent of loss to show as such.
#[derive(Debug, Clone, Default)]
pub struct FeedbackLoss {
    /// Per feedback: when it came, packets lost, packets received.
    samples: VecDeque<(Instant, u32, u32)>,
    last_report: Option<Instant>,
}

/// What one loss figure from feedback covers. The first figures after she goes to sound only still
/// hold the sound's loss from while video flowed; `SETTLE_AFTER_DOWN` (as long) keeps them from
/// counting against her.
const FEEDBACK_WINDOW: Duration = Duration::from_secs(2);
/// How often it goes to the policy: once a second, each figure over the last `FEEDBACK_WINDOW`.
const FEEDBACK_EVERY: Duration = Duration::from_secs(1);
/// Fewer packets than this in the window say nothing.
const FEEDBACK_MIN_PACKETS: u32 = 40;

impl FeedbackLoss {
    pub fn new() -> FeedbackLoss {
        FeedbackLoss::default()
    }

    /// One feedback message: `lost` and `received` packets it reports. Returns the loss over the
    /// window (0..=1) when a figure is due.
    pub fn add(&mut self, now: Instant, lost: u32, received: u32) -> Option<f32> {
        self.samples.push_back((now, lost, received));
        while self
            .samples
            .front()
            .is_some_and(|(t, _, _)| now.saturating_duration_since(*t) > FEEDBACK_WINDOW)
        {
            self.samples.pop_front();
        }
        if self
            .last_report
            .is_some_and(|t| now.saturating_duration_since(t) < FEEDBACK_EVERY)
        {
            return None;
        }
        let (lost, received) = self.samples.iter().fold((0u32, 0u32), |(l, r), (_, sl, sr)| {
            (l.saturating_add(*sl), r.saturating_add(*sr))
        });
        let total = lost.saturating_add(received);
        if total < FEEDBACK_MIN_PACKETS {
            return None;
        }
        self.last_report = Some(now);
        Some(lost as f32 / total as f32)
    }
}

/// The layer a viewer who should get `wanted` gets, given which layers the lecturer sends now: the
/// highest one not above it, else the lowest one above it (a browser that sends one layer only, or
/// whose upper layers paused for its own uplink). None when no layer is being sent.
pub fn choose(wanted: usize, sending: &[bool]) -> Option<usize> {
    let below = (0..sending.len()).rev().find(|l| *l <= wanted && sending[*l]);
    below.or_else(|| (0..sending.len()).find(|l| sending[*l]))
}

/// One viewer's position in a video slot's layers: the layer forwarded now, and the one she should
/// move to. A new layer starts only at a keyframe of that layer (its decoder needs one); until then
/// the old layer keeps flowing, so the picture never freezes for a switch.
#[derive(Debug, Clone, Default)]
pub struct LayerSwitch {
    current: Option<usize>,
    target: Option<usize>,
}

impl LayerSwitch {
    pub fn new() -> LayerSwitch {
        LayerSwitch::default()
    }

    /// The layer being forwarded (None before the first keyframe, or after `restart`).
    pub fn current(&self) -> Option<usize> {
        self.current
    }

    /// The layer she should get. Returns true when a keyframe of it is now needed (ask the
    /// publisher for one).
    pub fn aim(&mut self, target: Option<usize>) -> bool {
        if target == self.target {
            return false;
        }
        self.target = target;
        match target {
            Some(t) => self.current != Some(t),
            None => {
                self.current = None;
                false
            }
        }
    }

    /// Forward nothing until the target's next keyframe (her decoder lost its place: she was cut off
    /// or fell behind).
    pub fn restart(&mut self) {
        self.current = None;
    }

    /// Whether the layer's packets are wanted at all (current or target).
    pub fn listens_to(&self, layer: usize) -> bool {
        self.current == Some(layer) || self.target == Some(layer)
    }

    /// Whether a packet of `layer` goes to the viewer; `keyframe_start` says it begins a keyframe.
    pub fn forward(&mut self, layer: usize, keyframe_start: bool) -> bool {
        if self.target == Some(layer) && self.current != Some(layer) {
            if !keyframe_start {
                return false;
            }
            self.current = Some(layer);
            return true;
        }
        self.current == Some(layer) && self.target.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    /// Feeds one report a second from `from_s` to `to_s` (exclusive) with `loss`; returns the changes.
    fn feed(p: &mut LinkPolicy, start: Instant, from_s: u64, to_s: u64, loss: f32) -> Vec<(u64, Quality)> {
        (from_s..to_s)
            .filter_map(|s| p.report(at(start, s * 1000), loss).map(|q| (s, q)))
            .collect()
    }

    #[test]
    fn a_clean_link_climbs_to_the_top_layer_within_seconds_and_stays() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        assert_eq!(p.quality(), Quality::Video(1));
        let changes = feed(&mut p, t0, 0, 60, 0.0);
        assert_eq!(changes, vec![(3, Quality::Video(2))]);
    }

    #[test]
    fn one_lossy_report_is_not_enough_but_two_step_down_and_heavy_loss_at_once() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        assert_eq!(p.report(at(t0, 0), 0.15), None);
        assert_eq!(p.report(at(t0, 1000), 0.15), Some(Quality::Video(0)));
        let mut q = LinkPolicy::new();
        assert_eq!(q.report(at(t0, 0), 0.40), Some(Quality::Video(0)));
    }

    #[test]
    fn a_link_too_weak_for_any_layer_goes_audio_only_and_comes_back_when_it_recovers() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        let down = feed(&mut p, t0, 0, 1, 0.45);
        assert_eq!(down, vec![(0, Quality::Video(0))]);
        p.forwarding(at(t0, 300), Some(0));
        let down = feed(&mut p, t0, 1, 10, 0.45);
        assert_eq!(down, vec![(4, Quality::AudioOnly)]);
        // Audio-only reports (from the sound alone) stay clean: video is tried again, lowest first.
        let up = feed(&mut p, t0, 10, 30, 0.0);
        assert_eq!(up.first(), Some(&(13, Quality::Video(0))));
        assert_eq!(p.quality(), Quality::Video(2));
    }

    #[test]
    fn a_link_too_small_for_the_lowest_layer_goes_to_sound_only_after_two_readings() {
        let t0 = Instant::now();
        // From the middle layer: a third of what the lowest carries got through, twice. (The first
        // report's heavy loss alone steps down to the lowest layer, as it always did; the second
        // ends the wait there.)
        let mut p = LinkPolicy::new();
        assert_eq!(p.report_with_share(at(t0, 0), 0.9, Some(0.33)), Some(Quality::Video(0)));
        assert_eq!(
            p.report_with_share(at(t0, 500), 0.9, Some(0.33)),
            Some(Quality::AudioOnly)
        );
        // The same with lesser loss from the top layer (its trial long over): no step before the
        // second reading, then sound only.
        let mut p = LinkPolicy::new();
        feed(&mut p, t0, 0, 10, 0.0);
        assert_eq!(p.quality(), Quality::Video(2));
        assert_eq!(p.report_with_share(at(t0, 10_000), 0.2, Some(0.45)), None);
        assert_eq!(
            p.report_with_share(at(t0, 10_500), 0.2, Some(0.45)),
            Some(Quality::AudioOnly)
        );
        // One such reading after a moment with nothing at all (a handover), then the link is back:
        // no sound only. (The heavy loss itself steps down, as it always did.)
        let mut p = LinkPolicy::new();
        feed(&mut p, t0, 0, 4, 0.0);
        assert_eq!(p.quality(), Quality::Video(2));
        assert_eq!(
            p.report_with_share(at(t0, 4000), 0.85, Some(0.3)),
            Some(Quality::Video(0))
        );
        p.forwarding(at(t0, 4100), Some(0));
        assert_eq!(p.report_with_share(at(t0, 4500), 0.0, Some(1.0)), None);
        // (The clean report ended the count: this is a first reading again, while settling.)
        assert_eq!(p.report_with_share(at(t0, 5000), 0.2, Some(0.4)), None);
        assert_eq!(p.quality(), Quality::Video(0));
        // From the top, loss as heavy but the link bigger than the lowest layer: the lowest layer.
        let mut p = LinkPolicy::new();
        feed(&mut p, t0, 0, 4, 0.0);
        assert_eq!(
            p.report_with_share(at(t0, 4000), 0.9, Some(1.2)),
            Some(Quality::Video(0))
        );
        // Nothing came at all for a moment: not a measure of her link, the lowest layer first.
        let mut p = LinkPolicy::new();
        assert_eq!(
            p.report_with_share(at(t0, 0), 0.99, Some(0.01)),
            Some(Quality::Video(0))
        );
        // Settled on the lowest layer, the rules for loss alone stand (sound only is the bigger step).
        p.forwarding(at(t0, 300), Some(0));
        assert_eq!(p.report_with_share(at(t0, 3000), 0.3, Some(0.4)), None);
        assert_eq!(
            p.report_with_share(at(t0, 3500), 0.3, Some(0.4)),
            Some(Quality::AudioOnly)
        );
        // The report that stepped down to the lowest layer covered a moment without the limit; the
        // next ones, before settling there, show the link too small: sound only then.
        let mut p = LinkPolicy::new();
        assert_eq!(p.report_with_share(at(t0, 0), 0.6, Some(4.0)), Some(Quality::Video(0)));
        p.forwarding(at(t0, 100), Some(0));
        assert_eq!(p.report_with_share(at(t0, 600), 0.86, Some(0.4)), None);
        assert_eq!(
            p.report_with_share(at(t0, 1100), 0.86, Some(0.4)),
            Some(Quality::AudioOnly)
        );
        // A step down to a layer the lecturer does not send never completes: after `MOVE_WAIT` it
        // is not "settling" any more, and the lowest layer's own rules apply.
        let mut p = LinkPolicy::new();
        assert_eq!(p.report_with_share(at(t0, 0), 0.6, Some(4.0)), Some(Quality::Video(0)));
        assert_eq!(p.report_with_share(at(t0, 1000), 0.2, Some(0.4)), None);
        assert_eq!(p.report_with_share(at(t0, 6000), 0.2, Some(0.4)), None);
        // And a share means nothing on a clean report.
        let mut p = LinkPolicy::new();
        assert_eq!(p.report_with_share(at(t0, 0), 0.0, Some(0.1)), None);
        assert_eq!(p.report_with_share(at(t0, 500), 0.0, Some(0.1)), None);
    }

    #[test]
    fn the_share_compares_what_got_through_with_the_lowest_layer_over_each_interval() {
        let t0 = Instant::now();
        let mut s = DeliveredShare::new();
        // The first report only starts the measure.
        assert_eq!(s.at(at(t0, 0), 100_000, Some((0, 20_000)), 1_000, 5), None);
        // A second later: 150 kB sent to her (1.2 Mbit/s), 96 of the 100 packets since lost; the
        // lowest layer carried 18.75 kB.
        let share = s.at(at(t0, 1000), 250_000, Some((0, 38_750)), 1_100, 101).unwrap();
        assert!((share - 0.32).abs() < 0.001, "{share}");
        // A report soon after says nothing, and the next one measures from the last: its loss too,
        // from the reports' counts (half of 200 packets), whatever the last report alone lost.
        assert_eq!(s.at(at(t0, 1100), 252_000, Some((0, 39_000)), 1_110, 111), None);
        let share = s.at(at(t0, 2000), 288_000, Some((0, 57_750)), 1_300, 201).unwrap();
        assert!((share - 1.0).abs() < 0.001, "{share}");
        // Nothing new arrived: nothing to say.
        assert_eq!(s.at(at(t0, 3000), 300_000, Some((0, 80_000)), 1_300, 201), None);
        // The lost count went down (late retransmissions came): no loss, not a wrap to millions.
        let share = s.at(at(t0, 4000), 320_000, Some((0, 100_000)), 1_400, 190).unwrap();
        assert!((share - 1.0).abs() < 0.001, "{share}");
        // The count is 24 bits wide and wraps (as the report carries it): 50 lost, not millions;
        // across the middle of its range too (the signed reading's edge).
        let share_over = |before: u32, after: u32| {
            let mut w = DeliveredShare::new();
            w.at(at(t0, 0), 0, Some((0, 0)), 10, before);
            w.at(at(t0, 1000), 10_000, Some((0, 20_000)), 110, after).unwrap()
        };
        for (before, after) in [(0x00FF_FFFF, 49), (0x007F_FFF0, 0x0080_0022)] {
            let share = share_over(before, after);
            assert!((share - 0.25).abs() < 0.001, "{before:#x} → {after:#x}: {share}");
        }
        // The lowest layer changed (the lecturer stopped sending it): measured again from there.
        assert_eq!(s.at(at(t0, 5000), 400_000, Some((1, 5_000_000)), 1_500, 190), None);
        assert!(s.at(at(t0, 6000), 500_000, Some((1, 5_100_000)), 1_600, 190).is_some());
        // Long since the last report measured (she was not judged by her camera): from here.
        assert_eq!(s.at(at(t0, 10_000), 510_000, Some((1, 5_500_000)), 1_700, 190), None);
        assert!(
            s.at(at(t0, 11_000), 610_000, Some((1, 5_600_000)), 1_800, 190)
                .is_some()
        );
        // No layer at all: nothing, and nothing carried over.
        assert_eq!(s.at(at(t0, 12_000), 700_000, None, 1_900, 190), None);
        assert_eq!(s.at(at(t0, 13_000), 800_000, Some((1, 5_700_000)), 2_000, 190), None);
    }

    #[test]
    fn failed_trials_back_off_so_a_link_at_the_edge_does_not_flap() {
        // A link that carries layer 0 but not layer 1: every trial of layer 1 brings loss.
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        let mut ups = Vec::new();
        let mut level = p.quality();
        for s in 0..120u64 {
            let loss = if level == Quality::Video(0) { 0.0 } else { 0.4 };
            if let Some(q) = p.report(at(t0, s * 1000), loss) {
                if q == Quality::Video(1) {
                    ups.push(s);
                }
                level = q;
            }
        }
        // Trials 6, then 8 seconds of clean link apart rather than one every 3 s.
        let gaps: Vec<u64> = ups.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(ups.len() <= 14, "{ups:?}");
        assert!(gaps.iter().all(|g| *g >= 7), "{gaps:?}");
        assert!(gaps.iter().skip(1).all(|g| *g >= 9), "{gaps:?}");
        assert_eq!(level, Quality::Video(0));
    }

    #[test]
    fn after_the_limit_lifts_the_top_layer_returns_within_the_longest_wait_and_a_trial() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        let mut level = p.quality();
        for s in 0..60u64 {
            let loss = if level == Quality::Video(0) { 0.0 } else { 0.4 };
            if let Some(q) = p.report(at(t0, s * 1000), loss) {
                level = q;
            }
        }
        let top = (60..120u64).find(|s| {
            p.report(at(t0, s * 1000), 0.0);
            p.quality() == Quality::Video(2)
        });
        // At most the longest wait, then the middle layer's trial of 6 s.
        let top = top.map(|s| s - 60);
        assert!(top.is_some_and(|s| s <= 8 + 6), "{top:?}");
    }

    #[test]
    fn a_swamped_link_drops_to_the_lowest_layer_at_once_and_a_failed_trial_ends_at_its_first_loss() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        feed(&mut p, t0, 0, 4, 0.0);
        assert_eq!(p.quality(), Quality::Video(2));
        assert_eq!(p.report(at(t0, 4000), 0.8), Some(Quality::Video(0)));
        // Clean again: layer 1 is tried (after 6 s: the top layer's trial had just failed), and one
        // lossy report ends the trial.
        assert_eq!(feed(&mut p, t0, 5, 12, 0.0), vec![(11, Quality::Video(1))]);
        assert_eq!(p.report(at(t0, 12_000), 0.12), Some(Quality::Video(0)));
        // Outside a trial one such report is not enough.
        let mut q = LinkPolicy::new();
        assert_eq!(q.report(at(t0, 0), 0.12), None);
    }

    #[test]
    fn loss_while_the_old_layer_drains_does_not_count_twice() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        assert_eq!(p.report(at(t0, 0), 0.45), Some(Quality::Video(0)));
        p.forwarding(at(t0, 200), Some(0));
        assert_eq!(p.report(at(t0, 1000), 0.45), None);
        assert_eq!(p.report(at(t0, 1500), 0.45), None);
        // Loss still heavy at the lowest layer, but short of swamped: sound only takes two reports.
        assert_eq!(p.report(at(t0, 2500), 0.45), None);
        assert_eq!(p.report(at(t0, 3500), 0.45), Some(Quality::AudioOnly));
    }

    #[test]
    fn settling_starts_again_when_the_forwarder_actually_changes_layer() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        assert_eq!(p.report(at(t0, 0), 0.8), Some(Quality::Video(0)));
        // The low layer's keyframe took 1.8 s to come: until then she still got the old layer, and
        // the reports of its loss in the next 2 s say nothing about the low one.
        p.forwarding(at(t0, 1800), Some(0));
        assert_eq!(p.report(at(t0, 2500), 0.8), None);
        assert_eq!(p.report(at(t0, 3500), 0.4), None);
        // Then the low layer is judged on its own: one report short of swamped is not enough for
        // sound only, a second one is; a swamped one is at once.
        assert_eq!(p.report(at(t0, 4500), 0.4), None);
        assert_eq!(p.report(at(t0, 5500), 0.4), Some(Quality::AudioOnly));
        let mut q = LinkPolicy::new();
        q.report(at(t0, 0), 0.8);
        q.forwarding(at(t0, 500), Some(0));
        assert_eq!(q.report(at(t0, 3000), 0.6), Some(Quality::AudioOnly));
    }

    #[test]
    fn a_step_down_waits_for_the_move_but_not_for_ever() {
        let t0 = Instant::now();
        let mut p = LinkPolicy::new();
        assert_eq!(p.report(at(t0, 0), 0.8), Some(Quality::Video(0)));
        // The low layer's keyframe is late: the old layer's swamped reports change nothing...
        for ms in [1000, 2000, 3000, 4000] {
            assert_eq!(p.report(at(t0, ms), 0.8), None);
        }
        // ...until the step has waited `MOVE_WAIT` (a lecturer sending one layer only: no move comes).
        assert_eq!(p.report(at(t0, 5000), 0.8), Some(Quality::AudioOnly));
        // A move nobody asked for (the lecturer paused a layer) does not hide her loss.
        let mut q = LinkPolicy::new();
        feed(&mut q, t0, 0, 4, 0.0);
        assert_eq!(q.quality(), Quality::Video(2));
        q.forwarding(at(t0, 10_000), Some(1));
        assert_eq!(q.report(at(t0, 10_500), 0.3), Some(Quality::Video(1)));
        // Nor does a move that is not yet down far enough (a layer in between), or one after the step
        // was given up on: the wait ended, she went up again, and her forwarder arrives at the trial.
        let mut r = LinkPolicy::new();
        assert_eq!(r.report(at(t0, 0), 0.8), Some(Quality::Video(0)));
        r.forwarding(at(t0, 500), Some(1));
        assert_eq!(r.report(at(t0, 3000), 0.8), None, "still waiting for the move");
        feed(&mut r, t0, 6, 10, 0.0);
        assert_eq!(r.quality(), Quality::Video(1));
        r.forwarding(at(t0, 10_200), Some(1));
        assert_eq!(
            r.report(at(t0, 10_500), 0.3),
            Some(Quality::Video(0)),
            "the failed trial counts"
        );
        // A move that comes after the wait was given up on (no report in between) completes nothing.
        let mut s = LinkPolicy::new();
        assert_eq!(s.report(at(t0, 0), 0.8), Some(Quality::Video(0)));
        s.forwarding(at(t0, 6000), Some(0));
        assert_eq!(s.report(at(t0, 6500), 0.8), Some(Quality::AudioOnly));
    }

    #[test]
    fn feedback_gives_the_loss_of_the_last_two_seconds_once_a_second() {
        let t0 = Instant::now();
        let mut f = FeedbackLoss::new();
        // Sound only: 50 packets a second, feedback every 100 ms, one packet in 25 lost.
        let mut out = Vec::new();
        for i in 0..50u64 {
            let lost = u32::from(i % 5 == 0);
            if let Some(loss) = f.add(at(t0, i * 100), lost, 5 - lost) {
                out.push((i, loss));
            }
        }
        // The first once there are enough packets to say anything (40: 0.8 s), then once a second.
        let times: Vec<u64> = out.iter().map(|(i, _)| *i).collect();
        assert_eq!(times, vec![7, 17, 27, 37, 47]);
        for (_, loss) in &out[1..] {
            assert!((loss - 0.04).abs() < 0.01, "{out:?}");
        }
        // A link that recovers shows clean once the lossy feedback has left the window.
        let clean: Vec<(u64, f32)> = (50..90u64)
            .filter_map(|i| f.add(at(t0, i * 100), 0, 5).map(|l| (i, l)))
            .collect();
        assert!(clean[0].1 > 0.0, "{clean:?}");
        assert!(clean.iter().any(|(i, l)| *l == 0.0 && *i <= 71), "{clean:?}");
    }

    #[test]
    fn the_nearest_layer_being_sent_is_chosen() {
        assert_eq!(choose(2, &[true, true, true]), Some(2));
        assert_eq!(choose(1, &[true, true, true]), Some(1));
        // The lecturer's browser paused its top layer: the middle one.
        assert_eq!(choose(2, &[true, true, false]), Some(1));
        // A browser sending one layer only (its packets land in the top layer).
        assert_eq!(choose(0, &[false, false, true]), Some(2));
        assert_eq!(choose(1, &[false, false, false]), None);
    }

    /// Three synthetic layers, each a keyframe then delta frames; returns what the viewer gets.
    fn run(switch: &mut LayerSwitch, packets: &[(usize, bool)]) -> Vec<(usize, bool)> {
        packets
            .iter()
            .copied()
            .filter(|(layer, key)| switch.forward(*layer, *key))
            .collect()
    }

    #[test]
    fn a_viewer_starts_and_switches_layer_only_at_a_keyframe_of_the_new_layer() {
        let mut s = LayerSwitch::new();
        assert!(s.aim(Some(1)), "the first layer needs a keyframe");
        // Delta frames of every layer before the keyframe: nothing reaches her.
        let got = run(&mut s, &[(0, false), (1, false), (2, false)]);
        assert!(got.is_empty());
        let got = run(&mut s, &[(0, true), (1, true), (2, true), (1, false), (0, false)]);
        assert_eq!(got, vec![(1, true), (1, false)]);
        assert_eq!(s.current(), Some(1));
        // Told to move up: layer 1 keeps flowing until layer 2's keyframe, then only layer 2.
        assert!(s.aim(Some(2)));
        assert!(s.listens_to(1) && s.listens_to(2) && !s.listens_to(0));
        let got = run(&mut s, &[(2, false), (1, false), (2, true), (1, false), (2, false)]);
        assert_eq!(got, vec![(1, false), (2, true), (2, false)]);
        assert_eq!(s.current(), Some(2));
        assert!(!s.listens_to(1));
        // Aiming where she already is needs no keyframe.
        assert!(!s.aim(Some(2)));
    }

    #[test]
    fn a_switch_back_before_the_keyframe_came_cancels_it() {
        let mut s = LayerSwitch::new();
        s.aim(Some(0));
        run(&mut s, &[(0, true)]);
        s.aim(Some(2));
        assert!(!s.aim(Some(0)), "back to the layer she still gets: nothing to wait for");
        let got = run(&mut s, &[(2, true), (0, false)]);
        assert_eq!(got, vec![(0, false)]);
    }

    #[test]
    fn no_target_forwards_nothing_and_restart_waits_for_a_keyframe() {
        let mut s = LayerSwitch::new();
        s.aim(Some(0));
        run(&mut s, &[(0, true)]);
        s.aim(None);
        assert!(run(&mut s, &[(0, true), (0, false)]).is_empty());
        s.aim(Some(0));
        s.restart();
        assert_eq!(
            run(&mut s, &[(0, false), (0, true), (0, false)]),
            vec![(0, true), (0, false)]
        );
    }
}
