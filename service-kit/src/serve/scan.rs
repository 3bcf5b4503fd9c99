//! [`Scanner`]: checks a request head as its bytes arrive, before hyper parses them, so that a
//! request hyper would refuse with an empty body (or a head that never ends) gets a JSON answer
//! from us instead.
//!
//! Limits: the request line ([`Limits::max_uri_bytes`], 414), the whole head
//! ([`Limits::max_header_bytes`], 431), [`MAX_HEADERS`] header fields (431). Syntax (400): a
//! request line of `METHOD SP target SP HTTP/1.x`, a target of visible ASCII only (so a path that
//! is not UTF-8 is refused here), header names of token characters followed by `:`, no control
//! characters in values, no line folding, CR only before LF, one `Content-Length` of digits only
//! and never together with `Transfer-Encoding` (the ambiguities request smuggling lives on).

use super::limits::Limits;

/// Header fields allowed in one request (hyper's own limit is 100 too).
pub const MAX_HEADERS: usize = 100;

/// Why a head was refused: the status and the JSON answer's `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 414 or 431.
    pub status: u16,
    /// The `error` message.
    pub message: &'static str,
}

impl Refusal {
    const fn bad(message: &'static str) -> Self {
        Self {
            status: 400,
            message,
        }
    }
}

/// What the bytes scanned so far amount to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The head is not complete yet.
    More,
    /// The head ended after this many bytes of the chunk; the rest is body or the next request.
    End(usize),
}

/// Where in a `Content-Length` value the scanner is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Length {
    #[default]
    Before,
    Digits,
    After,
}

/// The state of one request head being received.
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    head_len: usize,
    line_len: usize,
    in_request_line: bool,
    started: bool,
    after_cr: bool,
    /// Spaces of the request line.
    spaces: u8,
    /// Whether the current header line's colon was seen.
    colon: bool,
    headers: usize,
    /// The request line's last field (the version), up to 9 bytes.
    version: [u8; 9],
    version_len: usize,
    /// The current header's name, lowercased, up to 17 bytes (`transfer-encoding`).
    name: [u8; 17],
    name_len: usize,
    name_overflow: bool,
    length: Length,
    content_lengths: u8,
    transfer_encoding: bool,
}

impl Scanner {
    /// A scanner at the start of a head.
    pub fn new() -> Self {
        Self {
            in_request_line: true,
            ..Self::default()
        }
    }

    /// Whether any byte of a head was received.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Scans the next bytes of the head.
    ///
    /// # Errors
    ///
    /// The head breaks a limit or the syntax.
    pub fn scan(&mut self, bytes: &[u8], limits: &Limits) -> Result<Scan, Refusal> {
        for (i, &b) in bytes.iter().enumerate() {
            self.head_len += 1;
            if self.in_request_line && self.line_len >= limits.max_uri_bytes {
                return Err(Refusal {
                    status: 414,
                    message: "request line too long",
                });
            }
            if self.head_len > limits.max_header_bytes {
                return Err(Refusal {
                    status: 431,
                    message: "request header too large",
                });
            }
            if self.byte(b)? {
                return Ok(Scan::End(i + 1));
            }
        }
        Ok(Scan::More)
    }

    /// One byte; `true` at the end of the head.
    fn byte(&mut self, b: u8) -> Result<bool, Refusal> {
        if self.after_cr && b != b'\n' {
            return Err(Refusal::bad("bare CR in the request head"));
        }
        match b {
            b'\r' => {
                self.after_cr = true;
                Ok(false)
            }
            b'\n' => {
                self.after_cr = false;
                self.end_of_line()
            }
            _ => {
                self.started = true;
                self.line_len += 1;
                if self.in_request_line {
                    self.request_line_byte(b)?;
                } else {
                    self.header_byte(b)?;
                }
                Ok(false)
            }
        }
    }

    fn end_of_line(&mut self) -> Result<bool, Refusal> {
        if self.in_request_line {
            // Empty lines before the request line are allowed (RFC 9112, 2.2).
            if self.line_len == 0 {
                return Ok(false);
            }
            let version = &self.version[..self.version_len];
            if self.spaces != 2 || !(version == b"HTTP/1.1" || version == b"HTTP/1.0") {
                return Err(Refusal::bad("malformed request line"));
            }
            self.in_request_line = false;
        } else if self.line_len == 0 {
            if self.content_lengths > 0 && self.transfer_encoding {
                return Err(Refusal::bad(
                    "Content-Length and Transfer-Encoding together",
                ));
            }
            return Ok(true);
        } else {
            self.end_of_header()?;
        }
        self.line_len = 0;
        Ok(false)
    }

    fn end_of_header(&mut self) -> Result<(), Refusal> {
        if !self.colon {
            return Err(Refusal::bad("malformed header line"));
        }
        self.headers += 1;
        if self.headers > MAX_HEADERS {
            return Err(Refusal {
                status: 431,
                message: "too many header fields",
            });
        }
        if self.is_named(b"content-length") {
            self.content_lengths = self.content_lengths.saturating_add(1);
            if self.length == Length::Before || self.content_lengths > 1 {
                return Err(Refusal::bad("invalid Content-Length"));
            }
        }
        if self.is_named(b"transfer-encoding") {
            self.transfer_encoding = true;
        }
        self.colon = false;
        self.name_len = 0;
        self.name_overflow = false;
        self.length = Length::Before;
        Ok(())
    }

    fn is_named(&self, name: &[u8]) -> bool {
        !self.name_overflow && &self.name[..self.name_len] == name
    }

    fn request_line_byte(&mut self, b: u8) -> Result<(), Refusal> {
        if b == b' ' {
            self.spaces = self.spaces.saturating_add(1);
            if self.line_len == 1 || self.spaces > 2 {
                return Err(Refusal::bad("malformed request line"));
            }
            return Ok(());
        }
        if !b.is_ascii_graphic() {
            return Err(Refusal::bad(
                "the request target must be visible ASCII (percent-encode other bytes)",
            ));
        }
        match self.spaces {
            0 if !is_tchar(b) => Err(Refusal::bad("malformed request method")),
            2 => {
                if self.version_len == self.version.len() {
                    return Err(Refusal::bad("malformed request line"));
                }
                self.version[self.version_len] = b;
                self.version_len += 1;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn header_byte(&mut self, b: u8) -> Result<(), Refusal> {
        if self.line_len == 1 && (b == b' ' || b == b'\t') {
            return Err(Refusal::bad("folded header lines are not accepted"));
        }
        if self.colon {
            return self.value_byte(b);
        }
        if b == b':' && self.line_len > 1 {
            self.colon = true;
            Ok(())
        } else if is_tchar(b) {
            if self.name_len == self.name.len() {
                self.name_overflow = true;
            } else {
                self.name[self.name_len] = b.to_ascii_lowercase();
                self.name_len += 1;
            }
            Ok(())
        } else {
            Err(Refusal::bad("invalid header name"))
        }
    }

    fn value_byte(&mut self, b: u8) -> Result<(), Refusal> {
        if !(b == b'\t' || (b >= 0x20 && b != 0x7f)) {
            return Err(Refusal::bad("control character in a header value"));
        }
        if self.is_named(b"content-length") {
            let space = b == b' ' || b == b'\t';
            self.length = match (self.length, space, b.is_ascii_digit()) {
                (Length::Before, true, _) => Length::Before,
                (Length::Before | Length::Digits, false, true) => Length::Digits,
                (Length::Digits | Length::After, true, _) => Length::After,
                _ => return Err(Refusal::bad("invalid Content-Length")),
            };
        }
        Ok(())
    }
}

/// A token character (RFC 9110, 5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(head: &[u8]) -> Result<Scan, Refusal> {
        Scanner::new().scan(head, &Limits::default())
    }

    #[test]
    fn a_valid_head_ends_after_its_empty_line_in_any_chunking() {
        let head = b"\r\nPOST /a?b=c HTTP/1.1\r\nHost: x\r\nX-Y:\t v\xe9\r\nContent-Length: 4 \r\n\r\nbody";
        assert_eq!(scan(head), Ok(Scan::End(head.len() - 4)));
        let mut scanner = Scanner::new();
        for (i, b) in head.iter().enumerate().take(head.len() - 5) {
            assert_eq!(
                scanner.scan(&[*b], &Limits::default()),
                Ok(Scan::More),
                "byte {i}"
            );
        }
        assert_eq!(
            scanner.scan(b"\nbody", &Limits::default()),
            Ok(Scan::End(1))
        );
        assert_eq!(scan(b"GET / HTTP/1.0\n\n"), Ok(Scan::End(16)));
    }

    #[test]
    fn bad_heads_are_refused_with_their_status() {
        let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(9000));
        let big_head = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(40_000));
        let many = format!("GET / HTTP/1.1\r\n{}", "X: y\r\n".repeat(101));
        let cases: [(&[u8], u16); 18] = [
            (b"GET /\xff HTTP/1.1\r\n", 400),
            (b"GET /\x01 HTTP/1.1\r\n", 400),
            (b"GET / HTTP/2.0\r\n", 400),
            (b"GET /\r\n", 400),
            (b"GET  / HTTP/1.1\r\n", 400),
            (b"G(T / HTTP/1.1\r\n", 400),
            (b"GET / HTTP/1.1\rX", 400),
            (b"GET / HTTP/1.1\r\nBad Name: x\r\n", 400),
            (b"GET / HTTP/1.1\r\nNoColon\r\n", 400),
            (b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: abc\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: 1 2\r\n", 400),
            (b"GET / HTTP/1.1\r\ncontent-length:\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n",
                400,
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            (long_line.as_bytes(), 414),
            (big_head.as_bytes(), 431),
            (many.as_bytes(), 431),
        ];
        for (head, status) in cases {
            let refusal = scan(head).expect_err(&String::from_utf8_lossy(head));
            assert_eq!(refusal.status, status, "{}", String::from_utf8_lossy(head));
        }
    }
}
