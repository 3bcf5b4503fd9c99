//! A client of `GET /api/events`: reads the stream chunk by chunk and parses its events.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

/// One event as a browser would dispatch it (or, with no data, only record its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{self:?}: {e}"))
    }
}

/// An open feed.
pub struct Feed {
    response: reqwest::Response,
    buffer: String,
    /// Comment lines seen (keep-alives).
    pub comments: usize,
}

impl Feed {
    /// Opens `url`, sending `Last-Event-ID` when given; panics unless it answers 200 with
    /// `text/event-stream`.
    pub async fn open(http: &reqwest::Client, url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = http.get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event (comments are counted, not returned); panics at the deadline or when
    /// the stream ends.
    pub async fn next(&mut self, deadline: Duration) -> SseEvent {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            if let Some(event) = self.parse_one() {
                return event;
            }
            let chunk = tokio::time::timeout_at(end, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {deadline:?}; have {:?}", self.buffer))
                .unwrap_or_else(|e| panic!("the feed failed: {e}"))
                .unwrap_or_else(|| panic!("the feed ended; have {:?}", self.buffer));
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads until a comment (a keep-alive) arrives; panics at the deadline.
    pub async fn wait_comment(&mut self, deadline: Duration) {
        let end = tokio::time::Instant::now() + deadline;
        while self.comments == 0 {
            while self.parse_one().is_some() {}
            if self.comments > 0 {
                break;
            }
            let chunk = tokio::time::timeout_at(end, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no comment within {deadline:?}"))
                .unwrap_or_else(|e| panic!("the feed failed: {e}"))
                .unwrap_or_else(|| panic!("the feed ended"));
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads until the server ends the stream; panics at the deadline.
    pub async fn wait_end(&mut self, deadline: Duration) {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let chunk = tokio::time::timeout_at(end, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("the feed still runs after {deadline:?}"));
            match chunk {
                Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(None) | Err(_) => return,
            }
        }
    }

    /// The next event named `name`, skipping others.
    pub async fn next_named(&mut self, name: &str, deadline: Duration) -> SseEvent {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            let event = self.next(left).await;
            if event.event == name {
                return event;
            }
        }
    }

    fn parse_one(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut event = SseEvent {
                event: String::new(),
                id: None,
                data: String::new(),
            };
            let mut fields = 0;
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                fields += 1;
                match name {
                    "event" => event.event = value.to_owned(),
                    "id" => event.id = Some(value.to_owned()),
                    "data" => event.data.push_str(value),
                    _ => {}
                }
            }
            if fields > 0 {
                return Some(event);
            }
        }
    }
}
