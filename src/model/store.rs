//! Weights in burn's burnpack format, read and written with burn's store; the architecture
//! lives beside them as the config's JSON. Loading checks every tensor's presence, shape and
//! finiteness: a file is hostile until parsed.

use burn::module::Module;
use burn::tensor::{Bytes, Device};
use burn_store::{BurnpackStore, ModuleSnapshot};

use super::{Network, NetworkConfig};
use crate::Error;

/// The architecture's JSON, as the trainer writes it.
pub fn config_to_json(config: &NetworkConfig) -> String {
    burn::config::config_to_json(config)
}

/// Reads an architecture from JSON and checks it.
pub fn config_from_json(json: &[u8]) -> Result<NetworkConfig, Error> {
    use burn::config::Config;
    let config = NetworkConfig::load_binary(json).map_err(|e| Error::file("config", e))?;
    config.check()?;
    Ok(config)
}

/// The network's weights as burnpack bytes.
pub fn save(network: &Network) -> Result<Vec<u8>, Error> {
    let mut store = BurnpackStore::from_bytes(None);
    network
        .save_into(&mut store)
        .map_err(|e| Error::file("weights", e))?;
    Ok(store
        .get_bytes()
        .map_err(|e| Error::file("weights", e))?
        .to_vec())
}

/// Builds `config` on `device` and loads its weights from burnpack `bytes`. Every tensor of the
/// architecture must be in the file with its shape, nothing else may be, and every value must
/// be finite. The file is read and checked on the CPU (a synchronous readback), then moved.
pub fn load(config: &NetworkConfig, bytes: &[u8], device: &Device) -> Result<Network, Error> {
    let mut network = config.init(&crate::backend::cpu())?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())));
    let applied = network
        .load_from(&mut store)
        .map_err(|e| Error::file("weights", e))?;
    check_applied(&applied)?;
    check_finite(&network)?;
    Ok(network.to_device(device))
}

/// Refuses a load that left tensors missing, unused or in error.
pub(crate) fn check_applied(applied: &burn_store::ApplyResult) -> Result<(), Error> {
    if let Some(e) = applied.errors.first() {
        return Err(Error::file("weights", e));
    }
    if let Some((path, _)) = applied.missing.first() {
        return Err(Error::file(
            "weights",
            format!(
                "tensor {path} is missing ({} missing)",
                applied.missing.len()
            ),
        ));
    }
    if let Some(path) = applied.unused.first() {
        return Err(Error::file(
            "weights",
            format!(
                "tensor {path} is not part of the architecture ({} unused)",
                applied.unused.len()
            ),
        ));
    }
    Ok(())
}

/// Refuses NaN and infinite weights: one would turn every explanation into NaN.
pub(crate) fn check_finite(network: &Network) -> Result<(), Error> {
    struct Finite(Option<String>, Vec<String>);
    impl burn::module::ModuleVisitor for Finite {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.1.push(name.into());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.1.pop();
        }
        fn visit_float<const D: usize>(
            &mut self,
            param: &burn::module::Param<burn::tensor::Tensor<D>>,
        ) {
            if self.0.is_some() {
                return;
            }
            let values = param
                .val()
                .into_data()
                .try_into_vec::<f32>()
                .unwrap_or_default();
            if values.iter().any(|v| !v.is_finite()) {
                self.0 = Some(self.1.join("."));
            }
        }
    }
    let mut visitor = Finite(None, Vec::new());
    network.visit(&mut visitor);
    match visitor.0 {
        Some(path) => Err(Error::file(
            "weights",
            format!("tensor {path} holds NaN or infinite values"),
        )),
        None => Ok(()),
    }
}
