//! A local webhook receiver for `bench/notices.sh`: answers every POST with 204 (keeping the
//! connection alive, as a real receiver would) and writes one line per request to the file
//! given, `webhook-id` and the arrival time in Unix microseconds, so the script can measure the
//! time from a change's commit to its first delivery attempt.
//!
//! Usage: webhook_receiver ADDR LOG_FILE   (for example 127.0.0.1:18190 out/arrivals.txt)

use std::io::{BufRead, BufReader, LineWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(log)) = (args.next(), args.next()) else {
        eprintln!("usage: webhook_receiver ADDR LOG_FILE");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&addr)?;
    let log = Arc::new(Mutex::new(LineWriter::new(std::fs::File::create(log)?)));
    for stream in listener.incoming().flatten() {
        let log = log.clone();
        std::thread::spawn(move || serve(stream, &log));
    }
    Ok(())
}

fn serve(stream: TcpStream, log: &Mutex<LineWriter<std::fs::File>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let (mut length, mut id) = (0usize, String::new());
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "webhook-id" => id = value.trim().to_owned(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        if let Ok(mut log) = log.lock() {
            let _ = writeln!(log, "{id} {micros}");
        }
        if writer
            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}
