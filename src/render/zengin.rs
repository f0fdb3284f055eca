//! The Zengin 総合振込 (bulk transfer) file: 120-byte fixed records in Shift_JIS, CRLF-terminated —
//! header (1), data (2), trailer (8) with count and total, end (9). A batch holds at most 999,999
//! data records; more transfers are written as further header/data/trailer batches before the one
//! end record. Payee data is checked before any byte is written; an account whose details cannot
//! make a valid record never gets one (it becomes a claim upstream: the payout rules of
//! [`crate::payout`], which this writer checks again with [`crate::payout::transfer_problem`]).

#![deny(clippy::arithmetic_side_effects)]

use chrono::{Datelike, NaiveDate};

use crate::incident::Zengin;
use crate::model::BankDetails;
use crate::money::Money;
use crate::payout::{MAX_BATCH_TOTAL, MAX_TRANSFERS_PER_BATCH, to_zengin_kana, transfer_problem};

pub const RECORD_BYTES: usize = 120;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZenginError {
    #[error(
        "incident file, payout.zengin.{field}: `{value}` cannot be written in a Zengin record ({reason})"
    )]
    Requester {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("bad input: account `{account_id}` cannot have a Zengin transfer record: {reason}")]
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
    let account_type = zengin.account_type.zengin_code();
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
    if let Some(reason) = transfer_problem(transfer.bank, transfer.amount) {
        return Err(ZenginError::Payee {
            account_id: transfer.account_id.to_string(),
            reason,
        });
    }
    let bank = transfer.bank;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    // Complete bank details (just checked) have both.
    let (Some(account_type), Some(holder)) = (
        bank.account_type,
        bank.holder_kana.as_deref().and_then(to_zengin_kana),
    ) else {
        return Err(ZenginError::Payee {
            account_id: transfer.account_id.to_string(),
            reason: "bank details passed the check but have no account type or Zengin name"
                .to_string(),
        });
    };
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
        account_type.zengin_code().to_string(),
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
    if !(0..=MAX_BATCH_TOTAL).contains(&total.minor()) {
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
    for batch in transfers.chunks(MAX_TRANSFERS_PER_BATCH) {
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
