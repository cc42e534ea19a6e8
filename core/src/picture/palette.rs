//! The colours every picture shares, in the terminal and in SVG.
//!
//! The palette is Okabe and Ito's eight colours ("Color Universal Design",
//! 2008), chosen to stay distinguishable for the common forms of colour
//! blindness. Colour never carries meaning alone: every mark also has its own
//! shape or symbol, so a picture printed in grey or a terminal without colour
//! still reads.

/// One colour, as SVG and as an ANSI terminal code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    /// The SVG fill, `#rrggbb`.
    pub svg: &'static str,
    /// The nearest of the terminal's sixteen colours, as an SGR code.
    pub ansi: u8,
}

/// Success: bluish green.
pub const GREEN: Colour = Colour {
    svg: "#009E73",
    ansi: 32,
};
/// Failure: vermillion.
pub const RED: Colour = Colour {
    svg: "#D55E00",
    ansi: 31,
};
/// Waiting out a timeout: orange.
pub const ORANGE: Colour = Colour {
    svg: "#E69F00",
    ansi: 33,
};
/// Authority (a lease, a leader): blue.
pub const BLUE: Colour = Colour {
    svg: "#0072B2",
    ansi: 34,
};
/// Messages: sky blue.
pub const SKY: Colour = Colour {
    svg: "#56B4E9",
    ansi: 36,
};
/// Retries: reddish purple.
pub const PURPLE: Colour = Colour {
    svg: "#CC79A7",
    ansi: 35,
};
/// Elections and terms: yellow.
pub const YELLOW: Colour = Colour {
    svg: "#F0E442",
    ansi: 93,
};
/// What no longer counts (late results, notes): grey.
pub const GREY: Colour = Colour {
    svg: "#8C8C8C",
    ansi: 90,
};
/// What is final and set aside (dead letters, crashes): black, shown in the
/// terminal's default colour.
pub const BLACK: Colour = Colour {
    svg: "#000000",
    ansi: 39,
};
