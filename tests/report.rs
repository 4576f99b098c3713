//! Tests of --report (loaded in headless Chromium), --perfetto, and --generate (man page, completions).

mod common;

use common::{bash_complete, prog, run, sigtrace, skip, tempdir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's chromium, or why it cannot be used.
fn chromium() -> Result<PathBuf, String> {
    let path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
        .ok_or("chromium is not installed (scripts/test.sh installs it)")?;
    Ok(path)
}

/// Runs headless Chromium (niced, with a profile of its own) on a local page (and #fragment).
fn browse(page: &Path, fragment: &str, extra: &[&str]) -> Result<String, String> {
    let browser = chromium()?;
    let profile = tempdir("chromium-profile");
    let out = run(Command::new("nice")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}{fragment}", page.display())));
    let _ = std::fs::remove_dir_all(&profile);
    if !out.status.success() {
        return Err(format!(
            "chromium failed ({}): {}",
            out.status,
            out.stderr.lines().last().unwrap_or("")
        ));
    }
    Ok(out.stdout)
}

/// The page's DOM after its script ran.
fn dom(page: &Path) -> Result<String, String> {
    dom_at(page, "")
}

fn dom_at(page: &Path, fragment: &str) -> Result<String, String> {
    let dom = browse(page, fragment, &["--dump-dom"])?;
    if dom.trim().is_empty() {
        return Err("chromium printed no DOM".into());
    }
    Ok(dom)
}

/// `name="value"` on the first element that has it.
fn attr(dom: &str, name: &str) -> Option<String> {
    let at = dom.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(dom[at..].split('"').next()?.to_string())
}

/// A 1400x900 screenshot: how many distinct colours, and the share of non-white pixels.
fn screenshot(page: &Path, png: &Path) -> Result<(usize, f64), String> {
    browse(
        page,
        "",
        &[
            "--window-size=1400,900",
            &format!("--screenshot={}", png.display()),
        ],
    )?;
    let file = std::fs::File::open(png).map_err(|e| format!("no screenshot: {e}"))?;
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let px = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    let pixels = buf[..info.buffer_size()].chunks(px);
    let total = pixels.len();
    for p in pixels {
        colours.insert((p[0], p[1], p[2]));
        inked += usize::from(p[..3] != [255, 255, 255]);
    }
    Ok((colours.len(), inked as f64 / total as f64))
}

/// A screenshot with many colours and more than a little ink: the page drew something.
fn assert_not_blank(page: &Path, png: &Path) {
    let (colours, inked) = screenshot(page, png).unwrap();
    assert!(
        colours > 30 && inked > 0.05,
        "{}: {colours} colours, {inked:.3} inked: blank?",
        png.display()
    );
}

/// A JSON file, parsed.
fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The JSON embedded in a report page.
fn page_data(page: &Path) -> Value {
    let html = std::fs::read_to_string(page).unwrap();
    let start = html.find(r#"id="trace-data">"#).unwrap() + r#"id="trace-data">"#.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).unwrap()
}

fn kill_and_exit_4(dir: &Path) -> common::Output {
    let out = run(sigtrace().current_dir(dir).args([
        "-f",
        "-o",
        "trace.txt",
        "--report",
        "report.html",
        "--perfetto",
        "trace.json",
        "--",
        "sh",
        "-c",
        "sleep 5 & sleep .2; kill $!; wait; exit 4",
    ]));
    assert_eq!(out.code(), 4, "{}", out.stderr);
    out
}

#[test]
fn report_page_draws_every_process_in_chromium() {
    let dir = tempdir("report");
    kill_and_exit_4(&dir);
    let page = dir.join("report.html");
    let data = page_data(&page);
    let pids = data["procs"]["pid"].as_array().unwrap().len();
    assert_eq!(pids, 3, "sh and its two sleeps");
    let dom = match dom(&page) {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    assert_eq!(
        attr(&dom, "data-lanes").as_deref(),
        Some("3"),
        "one lane per process"
    );
    assert_eq!(
        dom.matches("<tr data-pid=").count(),
        3,
        "a table row per process"
    );
    assert!(
        dom.contains("killed by SIGTERM after SIGTERM from"),
        "the verdict sentence"
    );
    assert!(dom.contains("external-signal") && dom.contains("self-exit"));
    // A link to a process selects it: the panel shows its verdict.
    let argv = data["procs"]["argv"].as_array().unwrap();
    let row = argv.iter().position(|a| a == "sleep 5").unwrap();
    let pid = &data["procs"]["pid"][row];
    let dom = dom_at(&page, &format!("#pid={pid}")).unwrap();
    let detail = dom.split("id=\"detail-text\">").nth(1).unwrap();
    let detail = detail.split("</pre>").next().unwrap();
    assert!(
        detail.starts_with(&format!("{pid} (sleep)  sleep 5")),
        "{detail}"
    );
    assert!(
        detail.contains("verdict: killed by SIGTERM after SIGTERM from"),
        "{detail}"
    );
    assert_not_blank(&page, &dir.join("shot.png"));
}

#[test]
fn fork_storm_of_2000_processes() {
    let dir = tempdir("storm");
    let out = run(sigtrace()
        .current_dir(&dir)
        .args(["-f", "-q", "-o", "/dev/null", "--report", "storm.html"])
        .args(["--perfetto", "storm.json"])
        .arg(prog("bomb"))
        .arg("1999"));
    assert!(out.status.success(), "{}", out.stderr);
    let forks: usize = out.stdout.trim().parse().unwrap();
    let page = dir.join("storm.html");
    let data = page_data(&page);
    assert_eq!(data["procs"]["pid"].as_array().unwrap().len(), forks + 1);
    let perfetto: Value = json_file(&dir.join("storm.json"));
    assert_eq!(slices(&perfetto).len(), forks + 1);
    let size = std::fs::metadata(&page).unwrap().len();
    let dom = match dom(&page) {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    assert_eq!(attr(&dom, "data-lanes"), Some((forks + 1).to_string()));
    assert_eq!(dom.matches("<tr data-pid=").count(), forks + 1);
    let (ms, draw) = (
        attr(&dom, "data-render-ms").unwrap(),
        attr(&dom, "data-draw-ms").unwrap(),
    );
    eprintln!(
        "report: {} processes, {} signals: {size} bytes, ready {ms} ms after navigation, a frame {draw} ms",
        forks + 1,
        data["signals"]["t"].as_array().unwrap().len()
    );
    assert_not_blank(&page, &dir.join("storm.png"));
}

/// 2,000 processes and 100,000 signals, made up: the page stays small and quick to draw.
#[test]
fn page_with_100000_signals() {
    use sigtrace::render::collect::{End, Proc, Sig, Trace};
    let n = 2000;
    let procs = (0..n)
        .map(|i| Proc {
            pid: 1000 + i,
            ppid: if i == 0 { 1 } else { 1000 + (i - 1) / 8 },
            parent: (i > 0).then(|| ((i - 1) / 8) as u32),
            comm: format!("worker-{i}"),
            argv: format!("worker --id {i}"),
            command: None,
            start: f64::from(i) * 0.001,
            end: Some(End {
                time: 10.0 - f64::from(i) * 0.001,
                outcome: "killed by SIGTERM".into(),
                cause: sigtrace::verdict::Cause::ExternalSignal,
                verdict: format!("killed by SIGTERM after SIGTERM from {}", 1000 + i / 2),
                by: Some(1000 + i / 2),
            }),
        })
        .collect();
    let signals = (0..100_000u32)
        .map(|k| Sig {
            time: f64::from(k) * 0.0001,
            receiver: k % n as u32,
            sender: (k % 3 == 0).then_some((k / 7) % n as u32),
            signo: if k % 2 == 0 { 10 } else { 17 },
            disposition: (k % 3) as u8,
            line: 1 + k % 2,
            from: 0,
        })
        .collect();
    let texts = vec![
        String::new(),
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1000, si_uid=0} ---".into(),
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1001, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---".into(),
    ];
    let trace = Trace {
        duration: 10.0,
        procs,
        signals,
        texts,
        ..Trace::default()
    };
    let dir = tempdir("many");
    let page = dir.join("many.html");
    let mut f = std::fs::File::create(&page).unwrap();
    sigtrace::render::report::write(&trace, &mut f).unwrap();
    let size = std::fs::metadata(&page).unwrap().len();
    let dom = match dom(&page) {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    assert_eq!(attr(&dom, "data-lanes").as_deref(), Some("2000"));
    assert_eq!(attr(&dom, "data-signals").as_deref(), Some("100000"));
    let (ms, draw) = (
        attr(&dom, "data-render-ms").unwrap(),
        attr(&dom, "data-draw-ms").unwrap(),
    );
    eprintln!(
        "report: 2000 processes, 100000 signals: {size} bytes, ready {ms} ms after navigation, a frame {draw} ms"
    );
    assert_not_blank(&page, &dir.join("many.png"));
}

/// Text from the traced system (here an argument) shows as text, never as markup or script.
#[test]
fn hostile_command_line_stays_text() {
    let dir = tempdir("hostile");
    let evil = "</script><b id=pwned>x</b><script>document.title='pwned'</script>";
    let out = run(sigtrace()
        .current_dir(&dir)
        .args(["-f", "-q", "-o", "/dev/null", "--report", "r.html", "--"])
        .args(["sh", "-c", "kill -USR1 $$; exit 0", evil]));
    assert_eq!(out.code(), 138, "{}", out.stderr);
    let html = std::fs::read_to_string(dir.join("r.html")).unwrap();
    assert!(!html.contains("<b id=pwned>"), "raw markup in the page");
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the page's own scripts end"
    );
    let dom = match dom(&dir.join("r.html")) {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    assert!(!dom.contains("id=\"pwned\"") && !dom.contains("<title>pwned"));
    assert!(
        dom.contains("&lt;/script&gt;&lt;b id=pwned&gt;"),
        "shown as text"
    );
}

/// Every X slice: one per process.
fn slices(doc: &Value) -> Vec<&Value> {
    let events = doc["traceEvents"].as_array().unwrap();
    events.iter().filter(|e| e["ph"] == "X").collect()
}

#[test]
fn perfetto_file_follows_the_trace_event_format() {
    let dir = tempdir("perfetto");
    kill_and_exit_4(&dir);
    let doc: Value = json_file(&dir.join("trace.json"));
    let events = doc["traceEvents"].as_array().unwrap();
    for e in events {
        assert!(
            e["ph"].is_string() && e["pid"].is_i64() && e["tid"].is_i64(),
            "{e}"
        );
        assert!(e["ph"] == "M" || e["ts"].is_number(), "{e}");
    }
    let x = slices(&doc);
    assert_eq!(x.len(), 3);
    let names = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name");
    assert_eq!(names.count(), 3, "a named track per process");
    let sleep = x
        .iter()
        .find(|e| e["args"]["command"] == "sleep 5")
        .unwrap();
    assert_eq!(sleep["args"]["cause"], "external-signal");
    assert_eq!(sleep["args"]["outcome"], "killed by SIGTERM");
    assert!(
        sleep["args"]["verdict"]
            .as_str()
            .unwrap()
            .contains("after SIGTERM from")
    );
    let instants: Vec<_> = events.iter().filter(|e| e["ph"] == "i").collect();
    assert!(
        instants
            .iter()
            .any(|e| e["name"] == "SIGTERM" && e["s"] == "t")
    );
    check_flows(events, &x);
}

/// Each flow has one start and one end with the same id, name and category, the start no later
/// than the end, each inside a slice of its own process (where it binds).
fn check_flows(events: &[Value], slices: &[&Value]) {
    let inside = |e: &Value| {
        let ts = e["ts"].as_f64().unwrap();
        slices.iter().any(|s| {
            let (t, d) = (s["ts"].as_f64().unwrap(), s["dur"].as_f64().unwrap());
            s["pid"] == e["pid"] && t <= ts && ts <= t + d
        })
    };
    let starts: Vec<_> = events.iter().filter(|e| e["ph"] == "s").collect();
    assert!(
        !starts.is_empty(),
        "sh's kill of its traced child is a flow"
    );
    for s in &starts {
        let ends: Vec<_> = events
            .iter()
            .filter(|e| e["ph"] == "f" && e["id"] == s["id"])
            .collect();
        assert_eq!(ends.len(), 1, "{s}");
        let f = ends[0];
        assert_eq!(
            (&f["name"], &f["cat"], &f["bp"]),
            (&s["name"], &s["cat"], &"e".into())
        );
        assert!(s["ts"].as_f64() <= f["ts"].as_f64(), "{s} {f}");
        assert!(inside(s) && inside(f), "{s} {f}");
    }
}

#[test]
fn report_written_after_a_detach() {
    let dir = tempdir("detach");
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id();
    let child = sigtrace()
        .current_dir(&dir)
        .args(["-q", "--report", "r.html", "--perfetto", "p.json", "-p"])
        .arg(pid.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for("the attach", || common::tracer_of(pid) != 0);
    common::signal(child.id(), nix::sys::signal::Signal::SIGINT);
    let out = common::finish(child, "sigtrace -p");
    assert_eq!(out.code(), 0, "{}", out.stderr);
    common::assert_let_go(pid, "the sleeper");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let data = page_data(&dir.join("r.html"));
    assert_eq!(data["procs"]["pid"], serde_json::json!([pid]));
    assert_eq!(
        data["procs"]["end"],
        serde_json::json!([-1]),
        "still running"
    );
    let p: Value = json_file(&dir.join("p.json"));
    assert_eq!(slices(&p).len(), 1);
}

#[test]
fn unwritable_report_path_fails_before_tracing() {
    let dir = tempdir("badpath");
    let marker = dir.join("ran");
    for flag in ["--report", "--perfetto", "-o"] {
        let out = run(sigtrace()
            .args([flag, "/nonexistent/dir/out", "touch"])
            .arg(&marker));
        assert_eq!(out.code(), 1);
        assert_eq!(
            out.stderr,
            format!("sigtrace: {flag} /nonexistent/dir/out: No such file or directory\n")
        );
        assert!(!marker.exists(), "the command must not run");
    }
}

fn generated(what: &str) -> String {
    let out = run(sigtrace().args(["--generate", what]));
    assert!(out.status.success(), "{}", out.stderr);
    out.stdout
}

/// Every long option `--help` lists.
fn long_options() -> Vec<String> {
    let help = run(sigtrace().arg("--help")).stdout;
    let re = regex::Regex::new(r"--[a-z][a-z-]+").unwrap();
    let mut opts: Vec<String> = re.find_iter(&help).map(|m| m.as_str().into()).collect();
    opts.sort();
    opts.dedup();
    assert!(opts.len() >= 12, "{opts:?}");
    opts
}

#[test]
fn man_page_shows_every_option() {
    let dir = tempdir("man");
    let page = dir.join("sigtrace.1");
    std::fs::write(&page, generated("man")).unwrap();
    let shown = run(Command::new("man")
        .env("MANWIDTH", "200")
        .env("MAN_KEEP_FORMATTING", "0")
        .arg(&page));
    let text = if shown.status.success() {
        // man underlines and emboldens with backspaces when not on a terminal.
        regex::Regex::new(".\x08")
            .unwrap()
            .replace_all(&shown.stdout, "")
            .into_owned()
    } else {
        eprintln!(
            "man is not usable here ({}); checking the roff text",
            shown.status
        );
        std::fs::read_to_string(&page).unwrap().replace("\\-", "-")
    };
    for opt in long_options() {
        assert!(text.contains(&opt), "{opt} missing from the man page");
    }
    assert!(text.contains("-e <EXPR>") && text.contains("Exit status"));
}

#[test]
fn bash_completes_expression_values() {
    let dir = tempdir("bash");
    let script = dir.join("sigtrace.bash");
    std::fs::write(&script, generated("bash")).unwrap();
    let values = bash_complete(&script, "sigtrace -e trace=");
    for v in [
        "trace=%signal",
        "trace=%process",
        "trace=all",
        "trace=none",
        "trace=kill",
    ] {
        assert!(values.iter().any(|x| x == v), "{v} not in {values:?}");
    }
    assert_eq!(
        bash_complete(&script, "sigtrace -e trace=%p"),
        ["trace=%process"]
    );
    // Bash's own word splitting at '=': `-e trace = kill,tg`.
    assert_eq!(
        bash_complete(&script, "sigtrace -e trace = kill,tgk"),
        ["kill,tgkill"]
    );
    assert!(bash_complete(&script, "sigtrace -e signal=SIGTE").contains(&"signal=SIGTERM".into()));
    assert_eq!(bash_complete(&script, "sigtrace --trace = %s"), ["%signal"]);
    assert!(bash_complete(&script, "sigtrace --rep").contains(&"--report".into()));
}

/// Whether a program is on PATH.
fn installed(name: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join(name).is_file())
}

#[test]
fn zsh_and_fish_scripts_offer_the_values() {
    let dir = tempdir("shells");
    for shell in ["zsh", "fish"] {
        let script = generated(shell);
        assert!(
            script.contains("trace=%signal") && script.contains("signal=SIGTERM"),
            "{shell}"
        );
        let file = dir.join(shell);
        std::fs::write(&file, &script).unwrap();
        if installed(shell) {
            let out = run(Command::new(shell).arg("-n").arg(&file));
            assert!(out.status.success(), "{shell} -n: {}", out.stderr);
        }
    }
    if !installed("fish") {
        return skip("fish is not installed: its completions were not run");
    }
    let source = format!("source {}; complete -C ", dir.join("fish").display());
    let complete = |line: &str| {
        run(Command::new("fish")
            .arg("-c")
            .arg(format!("{source}'{line}'")))
        .stdout
    };
    assert_eq!(complete("sigtrace -e trace=%p"), "trace=%process\n");
    assert!(complete("sigtrace --rep").starts_with("--report"));
}

/// A command line longer than a line: whole in the Selected panel and in the tooltips
/// (`title`), cut in the title and the table only outside its quotes or saying so.
#[test]
fn the_whole_command_line_is_on_the_page() {
    let dir = tempdir("long-command");
    let script = format!("exit 3 # {}", "y".repeat(400));
    let out = run(sigtrace()
        .current_dir(&dir)
        .args([
            "-q",
            "-o",
            "/dev/null",
            "--report",
            "r.html",
            "--perfetto",
            "p.json",
        ])
        .args(["--", "sh", "-c", &script, "name"]));
    assert_eq!(out.code(), 3, "{}", out.stderr);
    let whole = format!("sh -c '{script}' name");
    let data = page_data(&dir.join("r.html"));
    let short = data["procs"]["argv"][0].as_str().unwrap();
    assert!(
        short.contains("…' [cut: the whole command line is"),
        "{short}"
    );
    let command = data["procs"]["command"][0].as_u64().unwrap() as usize;
    assert_eq!(data["texts"][command], whole.as_str());
    let perfetto = json_file(&dir.join("p.json"));
    assert_eq!(slices(&perfetto)[0]["args"]["command"], whole.as_str());
    let pid = data["procs"]["pid"][0].as_i64().unwrap();
    let dom = match dom_at(&dir.join("r.html"), &format!("#pid={pid}")) {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    let panel = dom.split("id=\"detail-text\"").nth(1).unwrap();
    let panel = &panel[..panel.find("</pre>").unwrap()];
    assert!(panel.contains(&whole), "the Selected panel: {panel}");
    assert!(
        dom.matches(&format!("title=\"{whole}\"")).count() >= 2,
        "the title's and the table's tooltips"
    );
}

/// The legend names every mark and arrow the canvas draws, the SIGCHLD arrows included.
#[test]
fn the_legend_has_the_sigchld_arrows() {
    let dir = tempdir("legend");
    kill_and_exit_4(&dir);
    let dom = match dom(&dir.join("report.html")) {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    for key in [
        "arrow: traced sender → receiver",
        "dashed arrow: SIGCHLD, child → parent",
        "signal, caught",
    ] {
        assert!(dom.contains(key), "{key} missing from the legend");
    }
}

/// A run where everything happens at its very end opens zoomed to it; one spread over the run
/// opens whole.
#[test]
fn a_run_whose_events_are_all_at_the_end_opens_zoomed_to_them() {
    let dir = tempdir("zoom");
    let out = run(sigtrace()
        .current_dir(&dir)
        .args(["-q", "-o", "/dev/null", "--report", "late.html", "--"])
        .args(["sh", "-c", "sleep 1.5; kill -USR1 $$"]));
    assert_eq!(out.code(), 138, "{}", out.stderr);
    kill_and_exit_4(&dir);
    let view = |page: &str| -> Option<(i64, i64, i64)> {
        let dom = match dom(&dir.join(page)) {
            Ok(d) => d,
            Err(why) => {
                skip(&why);
                return None;
            }
        };
        let v = attr(&dom, "data-view").unwrap();
        let (t0, t1) = v.split_once(',').unwrap();
        let duration = page_data(&dir.join(page))["duration_us"].as_i64().unwrap();
        Some((t0.parse().unwrap(), t1.parse().unwrap(), duration))
    };
    let Some((t0, t1, duration)) = view("late.html") else {
        return;
    };
    assert!(duration > 1_400_000, "{duration}");
    assert!(
        t0 > duration * 9 / 10 && t1 - t0 < duration / 10,
        "view {t0}..{t1} of {duration} µs"
    );
    let Some((t0, t1, duration)) = view("report.html") else {
        return;
    };
    assert_eq!((t0, t1), (0, duration.max(1)), "the whole run");
}
