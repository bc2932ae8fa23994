//! `--format html`: the self-contained report of the demo trace, opened in
//! headless Chromium (scripts/test installs Debian's package). Labels from
//! `fixtures/demo-labels-hostile.csv` carry markup (`<script>alert(1)</script>`,
//! an `<img onerror>`): they must show as text and never run. The page must
//! load without a script error, a console error or any request outside the
//! file; the table sorts, the graph zooms and pans, and clicking an address
//! lists its movements. A screenshot is left in target/.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: &str = "0x6578706c6f69746572626500b45dc71b2a9d5d4b";
const BINANCE: &str = "0x62696e616e6365e039637af0906aec166b649791";

fn report(dir: &Path) -> PathBuf {
    let out = dir.join("report.html");
    let mut c = fundtrail();
    c.args([
        "trace", "--seed", SEED, "--policy", "haircut", "--format", "html", "--out",
    ])
    .arg(&out)
    .arg(fixture("demo"))
    .arg("--labels")
    .arg(fixture("demo-labels-hostile.csv"));
    stdout_ok(&mut c);
    out
}

#[test]
fn the_report_is_one_file_with_escaped_data_and_no_network() {
    let dir = tempdir();
    let html = std::fs::read_to_string(report(dir.path())).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // the only scripts are the JSON island and the report's own
    assert_eq!(html.matches("<script").count(), 2, "script elements");
    assert!(!html.contains("<img"), "the hostile label became markup");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt; OKX &quot;deposit&quot; &amp; co"));
    assert!(html.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));
    // nothing is fetched: a policy forbids it and nothing refers out
    assert!(html.contains("default-src 'none'"));
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(needle), "{needle}");
    }
    // the facts: the conservation identity per asset, every endpoint, a path
    assert!(html.contains("seeded = held + absorbed + fees + below threshold"));
    assert_eq!(html.matches("<td class=\"ok\">conserved</td>").count(), 2);
    assert!(html.contains("<td>1000 ETH</td><td>=</td><td>623.992874000000000001 ETH</td>"));
    assert_eq!(html.matches("<tr data-address=").count(), 17);
    assert!(html.contains("id=\"paths-1\""));
    assert!(html.contains("peel chain [1]</a> of 3 transfers"));
    // the manifest names the input files with their digests
    assert!(html.contains("demo-labels-hostile.csv"));
}

#[test]
fn token_names_from_the_data_are_escaped_too() {
    // the demo ledger with a token whose symbol and name carry markup
    let dir = tempdir();
    let ledger = dir.path().join("ledger");
    std::fs::create_dir(&ledger).unwrap();
    for f in ["transactions.json", "token_transfers.json", "traces.json"] {
        std::fs::copy(fixture("demo").join(f), ledger.join(f)).unwrap();
    }
    write(
        &ledger,
        "tokens.json",
        r#"{"type": "token", "address": "0xdac17f958d2ee523a2206206994597c13d831ec7", "symbol": "<svg onload=alert(3)>", "name": "</script><script>alert(4)</script>", "decimals": 6, "total_supply": null}
"#,
    );
    let mut c = fundtrail();
    c.args([
        "trace", "--seed", SEED, "--policy", "haircut", "--format", "html",
    ])
    .arg(&ledger);
    let html = stdout_ok(&mut c);
    assert!(!html.contains("<svg onload"), "the symbol became markup");
    assert!(
        !html.contains("alert(4)</script>"),
        "the name ended a script"
    );
    assert!(html.contains("&lt;svg onload=alert(3)&gt;"));
    assert_eq!(html.matches("<script").count(), 2);
}

/// Chromium, or why not.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("FUNDTRAIL_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
        if let Ok(out) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !p.is_empty() {
                return PathBuf::from(p);
            }
        }
    }
    panic!(
        "no Chromium found: scripts/test installs Debian's `chromium` (or set FUNDTRAIL_CHROMIUM)"
    );
}

/// Run headless Chromium on a file; its stdout and stderr.
fn run_chromium(args: &[&str], page: &Path, profile: &Path) -> (String, String) {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-quic",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--virtual-time-budget=3000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .arg(format!("file://{}", page.display()))
    .env("HOME", profile);
    // to files, not pipes: a page's DOM fills a pipe before Chromium exits
    std::fs::create_dir_all(profile).unwrap();
    let (out_path, err_path) = (profile.join("stdout"), profile.join("stderr"));
    c.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = c.spawn().expect("start Chromium");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("Chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    (read(&out_path), read(&err_path))
}

/// Installed first: records script errors, console errors, policy
/// violations (a blocked request) and any alert.
const HARNESS: &str = r#"<script>
window.__problems = [];
addEventListener("error", function (e) { __problems.push("script error: " + e.message); });
addEventListener("securitypolicyviolation", function (e) { __problems.push("blocked: " + e.violatedDirective + " " + e.blockedURI); });
window.alert = function (m) { __problems.push("alert ran: " + m); };
(function () { var ce = console.error; console.error = function () { __problems.push("console.error: " + Array.prototype.join.call(arguments, " ")); ce.apply(console, arguments); }; })();
</script>
"#;

/// Run last: uses the page as a reader would, writes one line per check.
const CHECKS: &str = r#"<script>
(function () {
  var out = [];
  function check(name, ok) { out.push((ok ? "ok " : "FAIL ") + name); }
  try {
    var data = JSON.parse(document.getElementById("data").textContent);
    var t = document.getElementById("endpoint-table");
    var rows = function () { return Array.prototype.slice.call(t.tBodies[0].rows); };
    check("17 endpoint rows", rows().length === 17);
    var tainted = t.tHead.rows[0].cells[3];
    tainted.click();
    var v = rows().map(function (r) { return BigInt(r.cells[3].getAttribute("data-v")); });
    check("sorts by tainted, ascending", tainted.getAttribute("aria-sort") === "ascending" &&
      v.every(function (x, i) { return i === 0 || v[i - 1] <= x; }));
    tainted.click();
    v = rows().map(function (r) { return BigInt(r.cells[3].getAttribute("data-v")); });
    check("then descending", tainted.getAttribute("aria-sort") === "descending" &&
      v.every(function (x, i) { return i === 0 || v[i - 1] >= x; }));
    var rank = t.tHead.rows[0].cells[0];
    rank.click();
    check("back by rank", rows().map(function (r) { return r.cells[0].textContent; }).join(",") ===
      "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17");
    var labels = Array.prototype.map.call(t.querySelectorAll(".label"), function (s) { return s.textContent; });
    check("the script label is text", labels.indexOf("exchange: <script>alert(1)<\/script>") >= 0);
    check("the img label is text", labels.indexOf('exchange: <img src=x onerror=alert(2)> OKX "deposit" & co') >= 0);
    check("no element came from the data", document.querySelectorAll("img").length === 0 &&
      document.scripts.length === 4);

    var svg = document.getElementById("flow");
    var i = -1;
    data.nodes.forEach(function (n, k) { if (n.address === "BINANCE") i = k; });
    check("Binance is in the graph", i >= 0);
    var node = svg.querySelector('.node[data-node="' + i + '"]');
    node.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    var d = document.getElementById("detail");
    check("a click shows the address", d.textContent.indexOf("BINANCE") >= 0);
    check("and its movements", d.querySelectorAll("ul.movements li").length >= 1);
    check("with its label as text", d.textContent.indexOf("<script>alert(1)<\/script>") >= 0);
    check("and selects its table rows", t.querySelectorAll("tr.selected").length >= 1);

    var vb0 = svg.getAttribute("viewBox");
    svg.dispatchEvent(new WheelEvent("wheel", { deltaY: -120, clientX: 300, clientY: 200, bubbles: true, cancelable: true }));
    var vb1 = svg.getAttribute("viewBox");
    check("the wheel zooms in", vb1 !== vb0 && parseFloat(vb1.split(" ")[2]) < parseFloat(vb0.split(" ")[2]));
    svg.dispatchEvent(new PointerEvent("pointerdown", { clientX: 100, clientY: 100, bubbles: true }));
    svg.dispatchEvent(new PointerEvent("pointermove", { clientX: 180, clientY: 140, bubbles: true }));
    svg.dispatchEvent(new PointerEvent("pointerup", { clientX: 180, clientY: 140, bubbles: true }));
    var vb2 = svg.getAttribute("viewBox");
    check("a drag pans", vb2 !== vb1 && vb2.split(" ")[2] === vb1.split(" ")[2]);
    document.getElementById("zoom-fit").click();
    check("fit shows it all", svg.getAttribute("viewBox") ===
      "0.0 0.0 " + (+svg.getAttribute("data-width")).toFixed(1) + " " + (+svg.getAttribute("data-height")).toFixed(1));
    document.getElementById("zoom-in").click();
    check("the + button zooms", svg.getAttribute("viewBox") !== vb0);
  } catch (e) {
    out.push("FAIL exception: " + e);
  }
  window.__problems.forEach(function (p) { out.push("FAIL " + p); });
  var pre = document.createElement("pre");
  pre.id = "checks";
  pre.textContent = out.join("\n");
  document.body.appendChild(pre);
})();
</script>
"#;

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
fn chromium_opens_the_report_and_it_works() {
    let dir = tempdir();
    let page = report(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    // the harness goes right after the security policy, so it is under it
    let csp_end =
        html.find("img-src data:\">").expect("the policy meta") + "img-src data:\">".len();
    let body_end = html.rfind("</body>").unwrap();
    let tested = format!(
        "{}\n{HARNESS}{}{}{}",
        &html[..csp_end],
        &html[csp_end..body_end],
        CHECKS.replace("BINANCE", BINANCE),
        &html[body_end..]
    );
    let tested_page = dir.path().join("tested.html");
    std::fs::write(&tested_page, tested).unwrap();
    let profile = dir.path().join("profile");
    let (dom, stderr) = run_chromium(&["--dump-dom"], &tested_page, &profile);
    let start = dom
        .find("<pre id=\"checks\">")
        .unwrap_or_else(|| panic!("the checks did not run; Chromium said:\n{stderr}\nDOM:\n{dom}"));
    let text = &dom[start + "<pre id=\"checks\">".len()..];
    let text = unescape(&text[..text.find("</pre>").unwrap()]);
    let failed: Vec<&str> = text.lines().filter(|l| !l.starts_with("ok ")).collect();
    assert!(
        failed.is_empty(),
        "in Chromium:\n{text}\n\nChromium's stderr:\n{stderr}"
    );
    assert_eq!(text.lines().count(), 16, "{text}");
    assert!(!stderr.contains("Uncaught"), "{stderr}");

    // a screenshot of the plain report, for a person to look at
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, stderr) = run_chromium(
        &[
            "--window-size=1400,1800",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
        &profile,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {stderr}"));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

#[test]
fn the_report_is_byte_identical_at_one_and_two_threads() {
    let run = |threads: &str| {
        let mut c = fundtrail();
        c.env("RAYON_NUM_THREADS", threads)
            .args([
                "trace", "--seed", SEED, "--policy", "fifo", "--format", "html",
            ])
            .arg(fixture("demo"))
            .arg("--labels")
            .arg(fixture("demo-labels.csv"));
        stdout_ok(&mut c)
    };
    assert_eq!(run("1"), run("2"));
}
