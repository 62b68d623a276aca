//! Operating a running cache: health and key listing ([`health`]), and warming ([`warm`]).

pub(crate) mod health;
pub(crate) mod warm;
