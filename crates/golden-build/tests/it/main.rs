//! Integration tests (real engine).
