//! What an isg native plugin is written against. A plugin is a table of ops, each a plain Rust
//! function from arguments (and the read-only graph snapshot) to a result value; this crate
//! owns everything at the Node-API boundary: turning JS values into [`Value`]s and back,
//! holding the snapshot the host attached, catching panics, and throwing errors with a code.
//! Plugins never call Node-API themselves.
//!
//! The addon's exports (ABI version [`ABI_VERSION`], read by daemon/plugins/native-addon.ts):
//! `abi`, `name`, `ops` (names), `attach(snapshot)`, `detach()`, `call(op, args)`, `memory()`
//! (bytes the plugin holds), and `update(update)` when the plugin has an update hook. The last
//! two came after version 1 without changing it: the host looks for them before using them.

mod alloc;
mod args;
mod boundary;
mod js;
mod snapshot;
mod value;

use std::any::Any;
use std::collections::HashMap;
use std::rc::Rc;

pub use args::Args;
#[doc(hidden)]
pub use boundary::register;
#[doc(hidden)]
pub use napi_sys as sys;
pub use snapshot::{EdgeFilter, Snapshot};
pub use value::Value;

/// Bumped on any incompatible change to the exports above or to what `attach` receives.
pub const ABI_VERSION: u32 = 1;

/// An error an op reports: `code` is one of the wire protocol's error codes (`bad-args`,
/// `not-found`, `plugin-error`, ...), `message` a sentence a user can act on.
#[derive(Debug, Clone)]
pub struct OpError {
    pub code: &'static str,
    pub message: String,
}

impl OpError {
    pub fn bad_args(message: impl Into<String>) -> Self {
        OpError { code: "bad-args", message: message.into() }
    }
    pub fn plugin(message: impl Into<String>) -> Self {
        OpError { code: "plugin-error", message: message.into() }
    }
}

pub type OpResult = Result<Value, OpError>;
pub type Op = fn(&mut Call) -> OpResult;

/// A plugin: its name (as in isg-plugin.json), its ops, and its `onUpdate` hook if it has one
/// (the manifest lists `onUpdate` then).
pub struct Plugin {
    pub name: &'static str,
    pub ops: &'static [(&'static str, Op)],
    /// Called after graph updates, with the new generation's snapshot attached (and a fresh
    /// [`Call::memo`], so it may compute what the generation's calls will want), and the update
    /// as its arguments: `generation`, `files` (touched), `added` and `changed` (entity ids of the
    /// snapshot, [`Args::ids`]), `removed` (keys of entities that are gone). Its value is ignored.
    pub on_update: Option<Op>,
}

/// One call of an op: its arguments, the snapshot of the current generation (when the plugin
/// was granted `graph:read`), and a cache that lives as long as that generation.
pub struct Call<'a> {
    pub args: Args,
    snapshot: Option<&'a Snapshot>,
    memo: &'a mut Memo,
}

impl<'a> Call<'a> {
    /// The graph of the current generation; an error if no snapshot was attached.
    pub fn graph(&self) -> Result<&'a Snapshot, OpError> {
        self.snapshot.ok_or_else(|| OpError::plugin("this op reads the graph, but no snapshot was attached: grant the plugin the graph:read capability"))
    }

    /// `compute`'s result for `key`, computed once per generation: the cache is emptied when a
    /// snapshot of another generation is attached.
    pub fn memo<T: 'static>(&mut self, key: String, compute: impl FnOnce(&Snapshot) -> Result<T, OpError>) -> Result<Rc<T>, OpError> {
        if let Some(hit) = self.memo.entries.get(&key).and_then(|v| v.clone().downcast::<T>().ok()) {
            return Ok(hit);
        }
        let value = Rc::new(compute(self.graph()?)?);
        self.memo.entries.insert(key, value.clone());
        Ok(value)
    }
}

#[derive(Default)]
struct Memo {
    entries: HashMap<String, Rc<dyn Any>>,
}

/// Defines the addon's entry point (`napi_register_module_v1`) for a [`Plugin`].
#[macro_export]
macro_rules! export_plugin {
    ($plugin:expr) => {
        #[no_mangle]
        pub unsafe extern "C" fn napi_register_module_v1(env: $crate::sys::napi_env, exports: $crate::sys::napi_value) -> $crate::sys::napi_value {
            static PLUGIN: $crate::Plugin = $plugin;
            $crate::register(env, exports, &PLUGIN)
        }
    };
}
