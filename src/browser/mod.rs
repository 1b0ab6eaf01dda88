//! A real headless Chromium driven over the Chrome DevTools Protocol (`chromiumoxide`, without
//! its browser fetcher), free of Rhai: finding the system's Chromium ([`discovery`]), a session
//! with one page that ends every process it started ([`session`]), what can be done to the
//! page ([`page`], failing with a [`error::PageError`]), a bearer scoped to one origin ([`bearer`]), the record of the page's requests
//! ([`network`]) and of named steps ([`steps`]). `api::browser` binds it.

pub mod bearer;
pub mod discovery;
pub mod error;
pub mod network;
pub mod page;
pub mod session;
pub mod steps;

pub use discovery::find_chromium;
