//! The EPP wire library.
