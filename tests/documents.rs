//! Documents a company could send as they are: each language's own words (never a code or another
//! language's text), one letter per situation, the enclosures of seed 000, and era dates. Runs the
//! real binary on the bundled samples, with the incident file edited where a case needs it.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The sample `name`'s incident file with `edit` applied, written into `dir`.
fn incident_with(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = read(&root().join(format!("samples/incidents/{name}.toml")));
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, edited).unwrap();
    path
}

fn redress(args: &[&str], incident: &Path, data: &str) -> Command {
    let mut command = Command::cargo_bin("redress").unwrap();
    command
        .current_dir(root())
        .args(args)
        .arg("--incident")
        .arg(incident)
        .arg("--data")
        .arg(format!("samples/data/{data}"));
    command
}

fn run(incident: &Path, data: &str, out: &Path) -> assert_cmd::assert::Assert {
    redress(&["run"], incident, data)
        .arg("--out")
        .arg(out)
        .assert()
}

/// The rows of notices/index.csv as (column → value) maps.
fn index(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(out.join("notices/index.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(header, value)| (header.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

fn notice(out: &Path, account_id: &str, extension: &str) -> String {
    let row = index(out)
        .into_iter()
        .find(|row| row["account_id"] == account_id)
        .unwrap_or_else(|| panic!("{account_id} has no notice"));
    read(
        &out.join("notices")
            .join(row["file"].replace(".html", extension)),
    )
}

/// Removes the `[incident.text.en]` table (up to the next table).
fn without_english(text: String) -> String {
    let start = text.find("[incident.text.en]").unwrap();
    let end = start + text[start..].find("\n\n[").unwrap() + 1;
    format!("{}{}", &text[..start], &text[end..])
}

#[test]
fn a_language_an_affected_account_reads_must_have_its_texts() {
    let dir = tempfile::tempdir().unwrap();
    // ADSL-0004 reads English: its notice would have nothing but Japanese to show.
    let incident = incident_with(dir.path(), "demo", without_english);
    let out = dir.path().join("out");
    for command in [&["check"][..], &["run", "--out", out.to_str().unwrap()][..]] {
        redress(command, &incident, "demo")
            .assert()
            .code(2)
            .stderr(predicates::str::contains(
                "documents in `en` (the notice of 1 affected account) need `incident.text.en.title`, `incident.text.en.company`, `incident.text.en.summary`",
            ))
            .stderr(predicates::str::contains("hint:"));
    }
    assert!(!out.exists(), "nothing is written");

    // A region without a name in a language the documents need is refused too.
    let incident = incident_with(dir.path(), "demo", |text| {
        text.replace("en = \"NTT East\"\n", "")
    });
    redress(&["check"], &incident, "demo")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("`display.region.east.en`"));
}

#[test]
fn a_press_release_in_a_language_nobody_needs_is_left_out_when_its_texts_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    // The wireless-LAN sample without English texts and with its one English reader made Japanese.
    let incident = incident_with(dir.path(), "ntt-east-2009-wlan", without_english);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for table in ["accounts", "charges", "events"] {
        let source = root().join(format!("samples/data/ntt-east-2009-wlan/{table}.csv"));
        let text = read(&source).replace(",en,", ",ja,");
        std::fs::write(data.join(format!("{table}.csv")), text).unwrap();
    }
    let out = dir.path().join("out");
    Command::cargo_bin("redress")
        .unwrap()
        .args(["run", "--incident"])
        .arg(&incident)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "summary/press_release.en.md not written",
        ));
    assert!(out.join("summary/press_release.ja.md").exists());
    assert!(!out.join("summary/press_release.en.md").exists());
    let manifest = read(&out.join("manifest.json"));
    assert!(!manifest.contains("press_release.en.md"), "{manifest}");
}

#[test]
fn english_documents_carry_no_japanese_title_company_or_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let incident = root().join("samples/incidents/demo.toml");
    run(&incident, "demo", &out).success();
    let en = notice(&out, "ADSL-0004", ".md");
    for japanese in ["東日本電信電話株式会社", "ADSL・ISDNサービス", "謹啓"] {
        assert!(!en.contains(japanese), "{japanese} in\n{en}");
    }
    assert!(en.contains("NTT East Corporation"), "{en}");
    let release = read(&out.join("summary/press_release.en.md"));
    assert!(!release.contains("| east |"), "{release}");
    assert!(release.contains("| NTT East |"), "{release}");
    assert!(!release.contains("東日本電信電話"), "{release}");
    let release = read(&out.join("summary/press_release.ja.md"));
    assert!(release.contains("| NTT東日本 |"), "{release}");
}

#[test]
fn each_situation_gets_its_own_letter() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(
        &root().join("samples/incidents/ntt-east-2009-wlan.toml"),
        "ntt-east-2009-wlan",
        &out,
    )
    .success();
    let rows = index(&out);
    let waived = rows
        .iter()
        .find(|row| row["letter"] == "waived" && row["language"] == "ja")
        .expect("the wireless-LAN sample has an under-billed account");
    let letter = notice(&out, &waived["account_id"], ".md");
    assert!(letter.contains("に関するお詫びとお知らせ"), "{letter}");
    assert!(!letter.contains("返金明細書"), "{letter}");
    assert!(!letter.contains("ご返金のお知らせ"), "{letter}");
    assert!(letter.contains("## 3. 不足額について"), "{letter}");
    assert_eq!(waived["enclosures"], "");

    // A correction of an unpaid bill only: the demo's ADSL-0009 has nothing paid to refund.
    let out = dir.path().join("demo");
    run(&root().join("samples/incidents/demo.toml"), "demo", &out).success();
    let rows = index(&out);
    let corrections: Vec<_> = rows
        .iter()
        .filter(|row| row["letter"] == "correction")
        .collect();
    assert!(!corrections.is_empty(), "{rows:?}");
    for row in corrections {
        let letter = notice(&out, &row["account_id"], ".md");
        assert!(letter.contains("ご請求額訂正のお知らせ"), "{letter}");
        assert!(!letter.contains("返金明細書"), "{letter}");
        assert!(
            !letter.contains("| ご請求月 |"),
            "no empty statement: {letter}"
        );
        assert!(letter.contains("## 3. ご請求額の訂正"), "{letter}");
    }
}

#[test]
fn transfer_and_claim_letters_enclose_the_form_and_the_statement() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&root().join("samples/incidents/demo.toml"), "demo", &out).success();
    let claim = notice(&out, "ADSL-0003", ".md");
    assert!(
        claim.contains("別紙1「返金口座確認書」を同封いたします"),
        "{claim}"
    );
    let form = claim.find("## 別紙1　返金口座確認書").expect(&claim);
    let statement = claim.find("## 別紙2　返金明細書").expect(&claim);
    assert!(form < statement);
    // The form names the refund and leaves the account to fill in; the statement holds the table.
    let form_text = &claim[form..statement];
    assert!(form_text.contains("| ご返金額 | 25,625円 |"), "{form_text}");
    assert!(form_text.contains("| 口座番号 | |"), "{form_text}");
    assert!(claim[statement..].contains("| **ご返金額 合計** |"));
    // Each enclosure starts a new printed page.
    let html = notice(&out, "ADSL-0003", ".html");
    assert_eq!(html.matches("<div class=\"enclosure").count(), 2, "{html}");
    assert!(html.contains(".enclosure{break-before:page"));
    assert!(html.contains("thead{display:table-header-group}"));
    // A bill credit encloses nothing: the statement stays in the letter.
    let credit = notice(&out, "ADSL-0001", ".md");
    assert!(!credit.contains("別紙"), "{credit}");
    assert!(credit.contains("## 3. 返金明細書"), "{credit}");
    let rows = index(&out);
    let row = rows
        .iter()
        .find(|row| row["account_id"] == "ADSL-0003")
        .unwrap();
    assert_eq!(row["enclosures"], "refund_account_form;refund_statement");
    assert_eq!(row["channel"], "claim");
    // What a mail merge needs.
    assert!(!row["holder_name"].is_empty() && !row["postal_code"].is_empty());
    assert!(!row["address"].is_empty() && !row["email"].is_empty());
}

#[test]
fn era_dates_when_the_incident_asks_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let incident = incident_with(dir.path(), "ntt-2001-myline", |text| {
        text.replacen("currency = ", "date_style = \"wareki\"\ncurrency = ", 1)
    });
    let out = dir.path().join("out");
    run(&incident, "ntt-2001-myline", &out).success();
    // The 2001 release is dated 平成13年8月22日.
    let release = read(&out.join("summary/press_release.ja.md"));
    assert!(release.contains("平成13年8月22日"), "{release}");
    assert!(!release.contains("2001年"), "{release}");
    let rows = index(&out);
    let ja = rows.iter().find(|row| row["language"] == "ja").unwrap();
    let letter = notice(&out, &ja["account_id"], ".md");
    assert!(letter.contains("平成13年"), "{letter}");
    // English documents keep the Western calendar.
    let release = read(&out.join("summary/press_release.en.md"));
    assert!(release.contains("22 August 2001"), "{release}");
}

#[test]
fn the_report_is_in_the_incidents_language() {
    let dir = tempfile::tempdir().unwrap();
    // An English-language incident: [incident] title and company are English, the Japanese ones
    // come from [incident.text.ja].
    let incident = incident_with(dir.path(), "demo", |text| {
        text.replacen(
            "title = \"ADSL・ISDNサービスの解約手続き漏れによる料金の過大請求について\"\ncompany = \"東日本電信電話株式会社\"\n",
            "language = \"en\"\ntitle = \"Over-billing after ADSL and ISDN cancellations were not processed\"\ncompany = \"NTT East Corporation\"\n",
            1,
        )
        .replacen(
            "[incident.text.ja]\n",
            "[incident.text.ja]\ntitle = \"ADSL・ISDNサービスの解約手続き漏れによる料金の過大請求について\"\ncompany = \"東日本電信電話株式会社\"\n",
            1,
        )
        .replacen(
            "[incident.text.en]\ntitle = \"Over-billing after ADSL and ISDN cancellations were not processed\"\ncompany = \"NTT East Corporation\"\n",
            "[incident.text.en]\n",
            1,
        )
    });
    let out = dir.path().join("out");
    run(&incident, "demo", &out).success();
    let report = read(&out.join("summary/report.html"));
    for expected in [
        "<html lang=\"en\">",
        "<h1>Over-billing after ADSL and ISDN cancellations were not processed</h1>",
        "Refund date (interest runs to)</th><td>29 May 2009",
        "<td>NTT East</td>",
        "<td>Credit on a later bill</td>",
        "Refund per account, in steps of ¥5,000",
    ] {
        assert!(report.contains(expected), "{expected} not in\n{report}");
    }
    assert!(!report.contains("東日本電信電話"), "{report}");
    // The Japanese letters keep their Japanese title and company.
    let letter = notice(&out, "ADSL-0001", ".md");
    assert!(letter.contains("東日本電信電話株式会社"), "{letter}");
    assert!(
        letter.contains("ADSL・ISDNサービスの解約手続き漏れ"),
        "{letter}"
    );
}

/// The NURO sample (transfers with a Zengin file, refund date 2025-04-30) with extra arguments.
fn nuro(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    redress(
        &["run"],
        &root().join("samples/incidents/nuro-billed-before-activation.toml"),
        "nuro-billed-before-activation",
    )
    .arg("--out")
    .arg(out)
    .args(extra)
    .assert()
}

#[test]
fn transfers_are_dated_on_a_bank_business_day() {
    let dir = tempfile::tempdir().unwrap();
    // 2025-04-29 is 昭和の日: no bank executes a transfer file dated on it.
    nuro(&dir.path().join("a"), &["--refund-date", "2025-04-29"])
        .code(2)
        .stderr(predicates::str::contains(
            "command line, option `--refund-date`: 2025-04-29 is a national holiday (昭和の日, Showa Day)",
        ))
        .stderr(predicates::str::contains("the next bank business day is 2025-04-30"));
    // 2025-05-06 is a substitute holiday (振替休日) after Golden Week.
    nuro(&dir.path().join("b"), &["--transfer-date", "2025-05-06"])
        .code(2)
        .stderr(predicates::str::contains(
            "command line, option `--transfer-date`: 2025-05-06 is a national holiday",
        ))
        .stderr(predicates::str::contains("--transfer-date 2025-05-07"));
    nuro(&dir.path().join("c"), &["--transfer-date", "2025-04-01"])
        .code(2)
        .stderr(predicates::str::contains(
            "before the refund date 2025-04-30",
        ));
    nuro(&dir.path().join("d"), &["--transfer-date", "2051-01-10"])
        .code(2)
        .stderr(predicates::str::contains(
            "outside the bundled holiday calendar",
        ));
    for name in ["a", "b", "c", "d"] {
        assert!(!dir.path().join(name).exists());
    }

    // A later transfer date moves the transfers, not the interest.
    let plain = dir.path().join("plain");
    nuro(&plain, &[]).success();
    let later = dir.path().join("later");
    nuro(&later, &["--transfer-date", "2025-05-07"]).success();
    assert_eq!(
        read(&plain.join("refunds.csv")),
        read(&later.join("refunds.csv"))
    );
    let header = |out: &Path| {
        let zengin = std::fs::read(out.join("payouts/zengin.txt")).unwrap();
        // Header record: the transfer date (MMDD) follows type, code, requester code and name.
        String::from_utf8_lossy(&zengin[54..58]).to_string()
    };
    assert_eq!(header(&plain), "0430");
    assert_eq!(header(&later), "0507");
    let letter = notice(&later, "NU-0002", ".md");
    assert!(letter.contains("2025年5月7日に、ご登録の口座"), "{letter}");
    assert!(letter.contains("返金日（2025年4月30日）"), "{letter}");
    let manifest = read(&later.join("manifest.json"));
    assert!(
        manifest.contains("\"transfer_date\": \"2025-05-07\""),
        "{manifest}"
    );
    let release = read(&later.join("summary/press_release.ja.md"));
    assert!(
        release.contains("2025年5月7日にご登録の口座へお振り込み"),
        "{release}"
    );
}

/// Pages in a PDF: its `/Type /Page` objects (not the `/Type /Pages` tree).
fn pdf_pages(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    text.match_indices("/Type /Page")
        .filter(|(at, _)| !text[at + "/Type /Page".len()..].starts_with('s'))
        .count()
}

#[test]
fn notices_print_to_pdf_one_each_and_all_together() {
    if redress::render::pdf::PdfEngine::find().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium for the PDF test (.ci/run installs it)"
        );
        eprintln!("skipped: no Chromium for --pdf (apt-get install chromium fonts-noto-cjk)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    redress(
        &["run", "--pdf"],
        &root().join("samples/incidents/demo.toml"),
        "demo",
    )
    .arg("--out")
    .arg(&out)
    .assert()
    .success();
    let rows = index(&out);
    let mut pages = 0;
    for row in &rows {
        let pdf = out
            .join("notices/pdf")
            .join(row["file"].replace(".html", ".pdf"));
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{}", pdf.display());
        let count = pdf_pages(&bytes);
        // A claim letter is the letter and its two enclosures, each from a new page.
        if row["enclosures"].is_empty() {
            assert!(count >= 1, "{}", pdf.display());
        } else {
            assert!(count >= 3, "{}: {count} pages", pdf.display());
        }
        pages += count;
    }
    let merged = std::fs::read(out.join("notices/notices.pdf")).unwrap();
    assert!(merged.starts_with(b"%PDF-"));
    assert_eq!(pdf_pages(&merged), pages, "every notice from a new page");
    let manifest = read(&out.join("manifest.json"));
    assert!(manifest.contains("notices/pdf/*.pdf, notices/notices.pdf"));
}

#[test]
fn pdf_without_an_engine_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    redress(
        &["run", "--pdf"],
        &root().join("samples/incidents/demo.toml"),
        "demo",
    )
    .env("REDRESS_CHROMIUM", dir.path().join("no-such-chromium"))
    .arg("--out")
    .arg(&out)
    .assert()
    .code(2)
    .stderr(predicates::str::contains("--pdf needs a PDF engine"))
    .stderr(predicates::str::contains("apt-get install chromium"));
    assert!(!out.exists());
}
