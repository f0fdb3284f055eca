//! The payout rules (SPEC §4): which channel pays an account, what makes bank details complete,
//! and the limits of a Zengin transfer, which the channel respects so that every transfer the
//! ledger lists can be written (`render::zengin` writes them, checking with the same rules).

use crate::incident::{ActiveChannel, ClosedChannel, Incident};
use crate::model::{Account, BankDetails, Status};
use crate::money::Money;
use crate::refund::{ClaimReason, PayoutChannel};

/// Largest amount a Zengin data record's 10-digit field holds, in yen.
pub const MAX_TRANSFER_AMOUNT: i64 = 9_999_999_999;
/// Largest total a Zengin trailer record's 12-digit field holds, in yen.
pub const MAX_BATCH_TOTAL: i64 = 999_999_999_999;
/// Data records a Zengin batch holds (the trailer's 6-digit count).
pub const MAX_TRANSFERS_PER_BATCH: usize = 999_999;

/// The payout channel of an account (SPEC §4).
pub fn payout_channel(
    incident: &Incident,
    account: &Account,
    refund_total: Money,
) -> (PayoutChannel, Option<ClaimReason>) {
    if !refund_total.is_positive() {
        return (PayoutChannel::None, None);
    }
    let payout = &incident.payout;
    let (mut channel, mut reason) = match account.status {
        Status::Active => match payout.active {
            ActiveChannel::BillCredit => (PayoutChannel::BillCredit, None),
            ActiveChannel::BankTransfer => (PayoutChannel::BankTransfer, None),
        },
        Status::Closed => {
            let before_cutoff = match (account.closed_on, payout.claim_if_closed_before) {
                (Some(closed_on), Some(cutoff)) => closed_on < cutoff,
                _ => false,
            };
            if before_cutoff {
                (PayoutChannel::Claim, Some(ClaimReason::ClosedBeforeCutoff))
            } else {
                match payout.closed {
                    ClosedChannel::BankTransfer => (PayoutChannel::BankTransfer, None),
                    ClosedChannel::Claim => {
                        (PayoutChannel::Claim, Some(ClaimReason::ClosedAccountPolicy))
                    }
                }
            }
        }
    };
    if channel == PayoutChannel::BankTransfer && bank_problem(&account.bank).is_some() {
        channel = PayoutChannel::Claim;
        reason = Some(ClaimReason::IncompleteBankDetails);
    }
    // Zengin's amount field holds 10 digits of yen; other currencies are not paid through it.
    if channel == PayoutChannel::BankTransfer
        && incident.currency.code == "JPY"
        && refund_total.minor() > MAX_TRANSFER_AMOUNT
    {
        channel = PayoutChannel::Claim;
        reason = Some(ClaimReason::AmountExceedsTransferLimit);
    }
    if matches!(channel, PayoutChannel::BankTransfer | PayoutChannel::Claim)
        && refund_total < payout.minimum_transfer
    {
        return (PayoutChannel::Residual, None);
    }
    (channel, reason)
}

/// What makes `bank` incomplete (SPEC §4), or `None` when it is complete: a 4-digit bank code, a
/// 3-digit branch code, an account type, a 7-digit number, and a katakana holder name
/// ([`is_katakana_name`]; every such name has a Zengin form, see [`to_zengin_kana`]).
pub fn bank_problem(bank: &BankDetails) -> Option<String> {
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
    if bank.account_type.is_none() {
        return Some("bank_account_type is not ordinary, current or savings".to_string());
    }
    if !all_digits(&present(&bank.account_number), 7) {
        return Some(format!(
            "bank_account_number `{}` is not 7 digits",
            present(&bank.account_number)
        ));
    }
    let holder = present(&bank.holder_kana);
    if !is_katakana_name(&holder) {
        return Some(format!(
            "bank_account_holder_kana `{holder}` is not a katakana name"
        ));
    }
    None
}

/// Why a transfer of `amount` to `bank` cannot be a Zengin data record; `None` when it can.
pub fn transfer_problem(bank: &BankDetails, amount: Money) -> Option<String> {
    if let Some(problem) = bank_problem(bank) {
        return Some(problem);
    }
    if !(1..=MAX_TRANSFER_AMOUNT).contains(&amount.minor()) {
        return Some(format!(
            "amount {amount} does not fit a Zengin amount field (1 to {MAX_TRANSFER_AMOUNT} yen)"
        ));
    }
    None
}

fn all_digits(value: &str, length: usize) -> bool {
    value.len() == length && value.bytes().all(|byte| byte.is_ascii_digit())
}

/// Katakana (full- or half-width, with ー ﾞ ﾟ ・), spaces and `( ) . - /`, at least one letter.
pub fn is_katakana_name(name: &str) -> bool {
    let is_letter = |c: char| matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{FF66}'..='\u{FF6F}' | '\u{FF71}'..='\u{FF9D}');
    let allowed = |c: char| {
        is_letter(c)
            || matches!(
                c,
                'ー' | 'ﾞ'
                    | 'ﾟ'
                    | '・'
                    | '\u{FF65}'
                    | 'ｰ'
                    | ' '
                    | '\u{3000}'
                    | '('
                    | ')'
                    | '.'
                    | '-'
                    | '/'
            )
    };
    name.chars().all(allowed) && name.chars().any(is_letter)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn katakana_names() {
        assert!(is_katakana_name("ﾔﾏﾀﾞ ﾀﾛｳ"));
        assert!(is_katakana_name("ヤマダ　タロウ"));
        assert!(is_katakana_name("ｶ)ｴｸｻﾝﾌﾟﾙ"));
        assert!(!is_katakana_name("Yamada Taro"));
        assert!(!is_katakana_name("山田太郎"));
        assert!(!is_katakana_name("ー・ "));
        assert!(!is_katakana_name(""));
    }

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

    #[test]
    fn every_katakana_name_has_a_zengin_form() {
        let letters = ('\u{30A1}'..='\u{30FA}')
            .chain('\u{FF66}'..='\u{FF6F}')
            .chain('\u{FF71}'..='\u{FF9D}');
        for letter in letters {
            let name = format!("{letter}ー ﾞﾟ・･ｰ\u{3000}().-/");
            assert!(is_katakana_name(&name), "{name}");
            assert!(
                to_zengin_kana(&name).is_some_and(|kana| !kana.trim().is_empty()),
                "{name}"
            );
        }
    }
}
