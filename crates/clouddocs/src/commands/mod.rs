//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod keys;
pub(crate) mod policies;
pub(crate) mod serve;
pub(crate) mod users;
