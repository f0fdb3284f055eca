use polars::prelude::*;
use std::time::Instant;
fn main() -> PolarsResult<()> {
    let dir = "/tmp/redress-charges-pass/1000000x24/parquet";
    let ids = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some("/dev/shm/oa/refunds.csv".into()))?
        .finish()?
        .select(["account_id"])?;
    let scan = || {
        LazyFrame::scan_parquet(
            PlRefPath::from(format!("{dir}/charges.parquet").as_str()),
            ScanArgsParquet::default(),
        )
        .unwrap()
    };
    let run = |name: &str, lf: LazyFrame| -> PolarsResult<()> {
        let t = Instant::now();
        let r = match lf.collect_with_engine(Engine::Streaming)? {
            polars_core::query_result::QueryResult::Single(f) => f,
            _ => unreachable!(),
        };
        eprintln!("{name}: {:.2}s {:?}", t.elapsed().as_secs_f64(), r);
        Ok(())
    };
    run(
        "semi all",
        scan()
            .join(
                ids.clone().lazy(),
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Semi),
            )
            .select([
                len(),
                col("amount").sum(),
                col("unit_price").sum(),
                col("period_start").max(),
            ]),
    )?;
    run(
        "decode all",
        scan().select([
            len(),
            col("amount").sum(),
            col("unit_price").sum(),
            col("period_start").max(),
            col("account_id").max(),
            col("item").max(),
        ]),
    )?;
    Ok(())
}
