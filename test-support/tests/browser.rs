//! The headless-Chromium harness against pages given as `data:` URLs: navigation, evaluation,
//! waiting on text that changes later, and the errors a page reports.

use std::time::Duration;

use test_support::{Browser, process_exists};

const WAIT: Duration = Duration::from_secs(10);

fn data_url(html: &str) -> String {
    let encoded: String = html
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("data:text/html,{encoded}")
}

#[tokio::test]
async fn a_page_is_loaded_evaluated_and_waited_on() -> anyhow::Result<()> {
    let browser = Browser::launch().await?;
    let page = browser.new_page().await?;
    page.goto(&data_url(
        "<title>t</title><p id=status>starting</p><input id=rate value=5>\
         <script>setTimeout(() => { document.getElementById('status').textContent = 'ready now'; }, 300);\
         document.getElementById('rate').addEventListener('change', e => { document.title = 'rate ' + e.target.value; });</script>",
    ))
    .await?;

    assert_eq!(page.eval("1 + 2").await?, serde_json::json!(3));
    assert_eq!(
        page.eval("Promise.resolve('later')").await?,
        serde_json::json!("later")
    );
    let text = page.wait_for_text("#status", "ready", WAIT).await?;
    assert_eq!(text, "ready now");
    page.set_value("#rate", "7").await?;
    page.wait_for("document.title === 'rate 7'", WAIT).await?;

    let err = page
        .eval("null.x")
        .await
        .expect_err("a throwing expression");
    assert!(err.to_string().contains("TypeError"), "{err}");
    assert!(page.text("#missing").await.is_err());
    page.check_no_errors()?;
    Ok(())
}

#[tokio::test]
async fn a_wait_that_never_holds_fails_with_the_text_it_saw() -> anyhow::Result<()> {
    let browser = Browser::launch().await?;
    let page = browser.new_page().await?;
    page.goto(&data_url("<p id=status>stuck</p>")).await?;
    let err = page
        .wait_for_text("#status", "ready", Duration::from_millis(300))
        .await
        .expect_err("the text never changes");
    let message = format!("{err:#}");
    assert!(
        message.contains("stuck") && message.contains("ready"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn console_errors_and_uncaught_exceptions_are_collected() -> anyhow::Result<()> {
    let browser = Browser::launch().await?;
    let page = browser.new_page().await?;
    page.goto(&data_url(
        "<script>console.log('fine'); console.error('bad thing', 42);\
         setTimeout(() => { throw new Error('boom'); }, 0);</script>",
    ))
    .await?;
    page.wait_for("true", WAIT).await?;
    test_support::wait_until(WAIT, "two errors", || async { page.errors().len() >= 2 }).await?;
    let errors = page.errors().join("\n");
    assert!(errors.contains("console.error: bad thing 42"), "{errors}");
    assert!(
        errors.contains("uncaught exception") && errors.contains("boom"),
        "{errors}"
    );
    // console.log is not an error; each error is reported once.
    assert_eq!(page.errors().len(), 2, "{errors}");
    assert!(page.check_no_errors().is_err());
    Ok(())
}

#[tokio::test]
async fn chromium_is_gone_once_dropped() -> anyhow::Result<()> {
    let browser = Browser::launch().await?;
    let pid = browser.pid();
    assert!(process_exists(pid));
    drop(browser);
    assert!(!process_exists(pid), "chromium {pid} still runs");
    Ok(())
}
