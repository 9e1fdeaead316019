//! The messaging providers against real servers (aiosmtpd) and the project's simulators. One
//! test binary, so linking happens once per crate instead of once per file.

mod common;
mod smtp;
mod smtp_tls;
mod twilio;
mod webhook;
mod whatsapp;
