//! The Zengin 総合振込 (bulk transfer) file: 120-byte fixed records in Shift_JIS, CRLF-terminated —
//! header (1), data (2), trailer (8) with count and total, end (9). A batch holds at most 999,999
//! data records; more transfers are written as further header/data/trailer batches before the one
//! end record. Payee data is checked before any byte is written; an account whose details cannot
//! make a valid record never gets one (it becomes a claim upstream, see [`payee_problem`]).

#![deny(clippy::arithmetic_side_effects)]

use chrono::{Datelike, NaiveDate};

use crate::incident::Zengin;
use crate::model::BankDetails;
use crate::money::Money;

pub const RECORD_BYTES: usize = 120;
pub const MAX_RECORDS_PER_BATCH: usize = 999_999;
/// Largest amount a data record's 10-digit field holds.
pub const MAX_AMOUNT: i64 = 9_999_999_999;
/// Largest total a trailer record's 12-digit field holds.
pub const MAX_TOTAL: i64 = 999_999_999_999;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZenginError {
    #[error("payout.zengin.{field}: `{value}` cannot be written in a Zengin record ({reason})")]
    Requester {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("account `{account_id}`: {reason}")]
    Payee { account_id: String, reason: String },
    #[error("a Zengin transfer date is needed: give incident.refund_date or --refund-date")]
    NoTransferDate,
    /// A batch's total does not fit the trailer's 12-digit field.
    #[error(
        "a batch of transfers totals more than a Zengin trailer can carry (12 digits of yen; {total} so far)"
    )]
    BatchTotal { total: Money },
}

/// One transfer to write.
#[derive(Debug, Clone)]
pub struct Transfer<'a> {
    pub account_id: &'a str,
    pub refund_id: &'a str,
    pub amount: Money,
    pub bank: &'a BankDetails,
}

/// Converts text to the half-width katakana, upper-case letters, digits and symbols a Zengin
/// record may carry: full-width katakana become half-width (ガ → ｶﾞ), small kana become full-size
/// (ｯ → ﾂ), as banks require; `None` when a character has no such form.
pub fn to_zengin_kana(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '0'..='9' | 'A'..='Z' | ' ' | '(' | ')' | '.' | '-' | '/' | ',' => out.push(c),
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            '\u{3000}' => out.push(' '),
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' => {
                out.push(char::from_u32(u32::from(c).checked_sub(0xFEE0)?)?)
            }
            '\u{FF41}'..='\u{FF5A}' => {
                out.push(char::from_u32(u32::from(c).checked_sub(0xFEE0 + 0x20)?)?)
            }
            '（' => out.push('('),
            '）' => out.push(')'),
            '．' | '・' | '･' => out.push('.'),
            '－' | '‐' => out.push('-'),
            '／' => out.push('/'),
            'ー' | 'ｰ' | '−' => out.push('-'),
            '\u{FF66}'..='\u{FF9F}' => out.push_str(&full_size_half_width(c)),
            '\u{30A1}'..='\u{30FA}' => out.push_str(katakana_to_half_width(c)?),
            _ => return None,
        }
    }
    Some(out)
}

/// Small half-width kana folded to full size; others unchanged.
fn full_size_half_width(c: char) -> String {
    match c {
        'ｧ' => "ｱ",
        'ｨ' => "ｲ",
        'ｩ' => "ｳ",
        'ｪ' => "ｴ",
        'ｫ' => "ｵ",
        'ｬ' => "ﾔ",
        'ｭ' => "ﾕ",
        'ｮ' => "ﾖ",
        'ｯ' => "ﾂ",
        'ｰ' => "-",
        _ => return c.to_string(),
    }
    .to_string()
}

fn katakana_to_half_width(c: char) -> Option<&'static str> {
    const BASE: [&str; 90] = [
        "ｱ", "ｱ", "ｲ", "ｲ", "ｳ", "ｳ", "ｴ", "ｴ", "ｵ",
        "ｵ", // ァアィイゥウェエォオ (small folded)
        "ｶ", "ｶﾞ", "ｷ", "ｷﾞ", "ｸ", "ｸﾞ", "ｹ", "ｹﾞ", "ｺ", "ｺﾞ", // カガキギクグケゲコゴ
        "ｻ", "ｻﾞ", "ｼ", "ｼﾞ", "ｽ", "ｽﾞ", "ｾ", "ｾﾞ", "ｿ", "ｿﾞ", // サ…ゾ
        "ﾀ", "ﾀﾞ", "ﾁ", "ﾁﾞ", "ﾂ", "ﾂ", "ﾂﾞ", "ﾃ", "ﾃﾞ", "ﾄ", // タダチヂッツヅテデト
        "ﾄﾞ", "ﾅ", "ﾆ", "ﾇ", "ﾈ", "ﾉ", "ﾊ", "ﾊﾞ", "ﾊﾟ", "ﾋ", // ドナニヌネノハバパヒ
        "ﾋﾞ", "ﾋﾟ", "ﾌ", "ﾌﾞ", "ﾌﾟ", "ﾍ", "ﾍﾞ", "ﾍﾟ", "ﾎ", "ﾎﾞ", // ビピフブプヘベペホボ
        "ﾎﾟ", "ﾏ", "ﾐ", "ﾑ", "ﾒ", "ﾓ", "ﾔ", "ﾔ", "ﾕ", "ﾕ", // ポマミムメモャヤュユ
        "ﾖ", "ﾖ", "ﾗ", "ﾘ", "ﾙ", "ﾚ", "ﾛ", "ﾜ", "ﾜ", "ｲ", // ョヨラリルレロヮワヰ
        "ｴ", "ｦ", "ﾝ", "ｳﾞ", "ｶ", "ｹ", "ﾜﾞ", "ｲﾞ", "ｴﾞ", "ｦﾞ", // ヱヲンヴヵヶヷヸヹヺ
    ];
    BASE.get((c as u32).checked_sub(0x30A1)? as usize).copied()
}

/// Left-justified, space-padded (or cut) to `width` bytes of half-width text.
fn field(text: &str, width: usize) -> String {
    let mut out: String = text.chars().take(width).collect();
    let count = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(count)));
    out
}

fn digits(value: u64, width: usize) -> String {
    format!("{value:0width$}")
}

fn account_type_code(kind: &str) -> Option<&'static str> {
    match kind {
        "ordinary" => Some("1"),
        "current" => Some("2"),
        "savings" => Some("4"),
        _ => None,
    }
}

fn all_digits(value: &str, length: usize) -> bool {
    value.len() == length && value.bytes().all(|byte| byte.is_ascii_digit())
}

/// Why a payee cannot have a Zengin record; `None` when it can.
pub fn payee_problem(bank: &BankDetails, amount: Money) -> Option<String> {
    let present = |value: &Option<String>| value.as_deref().unwrap_or("").to_string();
    if !all_digits(&present(&bank.bank_code), 4) {
        return Some(format!(
            "bank_code `{}` is not 4 digits",
            present(&bank.bank_code)
        ));
    }
    if !all_digits(&present(&bank.branch_code), 3) {
        return Some(format!(
            "branch_code `{}` is not 3 digits",
            present(&bank.branch_code)
        ));
    }
    if account_type_code(&present(&bank.account_type)).is_none() {
        return Some(format!(
            "bank_account_type `{}` is not ordinary, current or savings",
            present(&bank.account_type)
        ));
    }
    if !all_digits(&present(&bank.account_number), 7) {
        return Some(format!(
            "bank_account_number `{}` is not 7 digits",
            present(&bank.account_number)
        ));
    }
    let holder = present(&bank.holder_kana);
    match to_zengin_kana(&holder) {
        None => {
            return Some(format!(
                "bank_account_holder_kana `{holder}` has characters a Zengin record cannot carry"
            ));
        }
        Some(kana) if kana.trim().is_empty() => {
            return Some("bank_account_holder_kana is empty".to_string());
        }
        Some(_) => {}
    }
    if !(1..=MAX_AMOUNT).contains(&amount.minor()) {
        return Some(format!(
            "amount {amount} does not fit a Zengin amount field (1 to {MAX_AMOUNT} yen)"
        ));
    }
    None
}

fn requester_field(field_name: &'static str, value: &str) -> Result<String, ZenginError> {
    to_zengin_kana(value).ok_or_else(|| ZenginError::Requester {
        field: field_name,
        value: value.to_string(),
        reason: "only half-width katakana, upper-case letters, digits and ( ) . - / are allowed"
            .to_string(),
    })
}

fn header(zengin: &Zengin, transfer_date: NaiveDate) -> Result<String, ZenginError> {
    let name = requester_field("requester_name", &zengin.requester_name)?;
    let bank_name = requester_field("bank_name", &zengin.bank_name)?;
    let branch_name = requester_field("branch_name", &zengin.branch_name)?;
    let account_type =
        account_type_code(&zengin.account_type).ok_or_else(|| ZenginError::Requester {
            field: "account_type",
            value: zengin.account_type.clone(),
            reason: "use ordinary, current or savings".to_string(),
        })?;
    Ok([
        "1".to_string(),
        "21".to_string(), // 種別コード: 総合振込
        "0".to_string(),  // コード区分: JIS (Shift_JIS)
        zengin.requester_code.clone(),
        field(&name, 40),
        format!("{:02}{:02}", transfer_date.month(), transfer_date.day()),
        zengin.bank_code.clone(),
        field(&bank_name, 15),
        zengin.branch_code.clone(),
        field(&branch_name, 15),
        account_type.to_string(),
        zengin.account_number.clone(),
        field("", 17),
    ]
    .concat())
}

fn data_record(transfer: &Transfer) -> Result<String, ZenginError> {
    if let Some(reason) = payee_problem(transfer.bank, transfer.amount) {
        return Err(ZenginError::Payee {
            account_id: transfer.account_id.to_string(),
            reason,
        });
    }
    let bank = transfer.bank;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let holder = to_zengin_kana(&text(&bank.holder_kana)).unwrap_or_default();
    // 顧客コード1: the refund_id's first 10 characters let finance match a returned transfer.
    let customer_code: String = transfer
        .refund_id
        .chars()
        .take(10)
        .collect::<String>()
        .to_ascii_uppercase();
    Ok([
        "2".to_string(),
        text(&bank.bank_code),
        field("", 15), // 被仕向銀行名: optional
        text(&bank.branch_code),
        field("", 15), // 被仕向支店名: optional
        field("", 4),  // 手形交換所番号: unused
        account_type_code(&text(&bank.account_type))
            .unwrap_or("9")
            .to_string(),
        text(&bank.account_number),
        field(&holder, 30),
        digits(transfer.amount.minor().unsigned_abs(), 10),
        "0".to_string(), // 新規コード
        field(&customer_code, 10),
        field("", 10),
        "7".to_string(), // 振込指定区分: テレ振込
        " ".to_string(),
        field("", 7),
    ]
    .concat())
}

fn trailer(count: usize, total: Money) -> Result<String, ZenginError> {
    if !(0..=MAX_TOTAL).contains(&total.minor()) {
        return Err(ZenginError::BatchTotal { total });
    }
    Ok([
        "8".to_string(),
        digits(count as u64, 6),
        digits(total.minor().unsigned_abs(), 12),
        field("", 101),
    ]
    .concat())
}

/// The whole file as Shift_JIS bytes.
pub fn render(
    zengin: &Zengin,
    transfer_date: Option<NaiveDate>,
    transfers: &[Transfer],
) -> Result<Vec<u8>, ZenginError> {
    let transfer_date = transfer_date.ok_or(ZenginError::NoTransferDate)?;
    let header = header(zengin, transfer_date)?;
    let mut records: Vec<String> = Vec::with_capacity(transfers.len().saturating_add(3));
    for batch in transfers.chunks(MAX_RECORDS_PER_BATCH) {
        records.push(header.clone());
        let mut total = Money::zero(0);
        for transfer in batch {
            records.push(data_record(transfer)?);
            total = total
                .checked_add(transfer.amount)
                .ok_or(ZenginError::BatchTotal { total })?;
        }
        records.push(trailer(batch.len(), total)?);
    }
    if transfers.is_empty() {
        records.push(header);
        records.push(trailer(0, Money::zero(0))?);
    }
    records.push(["9".to_string(), field("", 119)].concat());
    let mut bytes = Vec::with_capacity(records.len().saturating_mul(RECORD_BYTES + 2));
    for record in records {
        let (encoded, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&record);
        if unmappable || encoded.len() != RECORD_BYTES {
            return Err(ZenginError::Requester {
                field: "record",
                value: record.clone(),
                reason: format!("encodes to {} bytes, not {RECORD_BYTES}", encoded.len()),
            });
        }
        bytes.extend_from_slice(&encoded);
        bytes.extend_from_slice(b"\r\n");
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kana_conversion_for_banks() {
        assert_eq!(to_zengin_kana("ヤマダ　タロウ").as_deref(), Some("ﾔﾏﾀﾞ ﾀﾛｳ"));
        assert_eq!(to_zengin_kana("ｷｯﾄﾞ ｼｮｳｼﾞ").as_deref(), Some("ｷﾂﾄﾞ ｼﾖｳｼﾞ"));
        assert_eq!(to_zengin_kana("ガッコウ・パン").as_deref(), Some("ｶﾞﾂｺｳ.ﾊﾟﾝ"));
        assert_eq!(to_zengin_kana("ｶ)ｴｸｻﾝﾌﾟﾙ").as_deref(), Some("ｶ)ｴｸｻﾝﾌﾟﾙ"));
        assert_eq!(to_zengin_kana("ヴィーナス").as_deref(), Some("ｳﾞｲ-ﾅｽ"));
        assert_eq!(to_zengin_kana("abc"), Some("ABC".to_string()));
        assert_eq!(to_zengin_kana("山田"), None);
    }
}
