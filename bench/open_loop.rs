//! Latency at a steady request rate (open loop): `clients` connections together send `rate`
//! requests a second for `seconds`, each request on its own schedule whether or not earlier
//! ones have answered, and each latency is counted from the moment the request was due
//! (so a stall shows in the figures instead of slowing the load, unlike wrk's closed loop).
//! One uncounted request per connection first opens the connections.
//! POSTs the JSON bodies read from standard input (one per line) in turn.
//!
//!     open_loop URL BEARER-TOKEN RATE SECONDS CLIENTS < bodies.jsonl

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, token, rate, seconds, clients] = args.as_slice() else {
        anyhow::bail!("usage: open_loop URL BEARER-TOKEN RATE SECONDS CLIENTS < bodies.jsonl");
    };
    let (rate, seconds, clients): (f64, f64, usize) =
        (rate.parse()?, seconds.parse()?, clients.parse()?);
    let bodies: Arc<Vec<String>> = Arc::new(
        std::io::stdin()
            .lock()
            .lines()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect(),
    );
    anyhow::ensure!(!bodies.is_empty(), "no request bodies on standard input");
    let total = (rate * seconds) as usize;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    // Warm-up, not counted: one request on each connection at once, so the figures are the
    // steady state (connections open, the server's statements prepared), not 50 handshakes.
    let mut warm = tokio::task::JoinSet::new();
    for n in 0..clients {
        let request = http
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(bodies[n % bodies.len()].clone());
        warm.spawn(async move { request.send().await?.error_for_status() });
    }
    while let Some(done) = warm.join_next().await {
        done??;
    }
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let (http, bodies, url, token) = (http.clone(), bodies.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            for n in (client..total).step_by(clients) {
                let due = start + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
                let sent = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(bodies[n % bodies.len()].clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        r.bytes().await.ok();
                        latencies.push(due.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    writeln!(
        std::io::stdout(),
        "{} requests at {:.0}/s asked ({:.0}/s done) on {clients} connections: p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  errors {errors}",
        latencies.len(),
        rate,
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
    )?;
    Ok(())
}
