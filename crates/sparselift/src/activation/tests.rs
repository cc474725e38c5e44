use super::*;

/// Central differences in f64 at points away from the kinks of relu, leaky relu and elu.
#[test]
fn derivatives_match_finite_differences() {
    let h = 1e-6;
    for e in Elementwise::ALL {
        for &z in &[-3.1f64, -0.7, -0.05, 0.03, 0.4, 1.9, 12.0] {
            let fd = (e.phi(z + h) - e.phi(z - h)) / (2.0 * h);
            let d = e.dphi(z);
            assert!(
                (fd - d).abs() <= 1e-7 * (1.0 + d.abs()),
                "{e} at {z}: {d} vs {fd}"
            );
        }
    }
}

/// `φ'` from the output is `φ'` from the pre-activation, bit for bit, at kinks too, in
/// both precisions.
#[test]
fn derivatives_from_outputs_equal_those_from_pre_activations() {
    let points = [
        -30.0f64, -3.1, -0.7, -1e-30, -0.0, 0.0, 1e-30, 0.03, 0.4, 1.9, 12.0,
    ];
    for e in Elementwise::ALL
        .into_iter()
        .filter(|e| e.derivative_from_output())
    {
        for z in points {
            let (want, got) = (e.dphi(z), e.dphi_stored(e.phi(z)));
            assert_eq!(got.to_bits(), want.to_bits(), "{e} at {z}: {got} vs {want}");
            let z = z as f32;
            let (want, got) = (e.dphi(z), e.dphi_stored(e.phi(z)));
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{e} at {z}: {got} vs {want} (f32)"
            );
        }
    }
}

/// Activations whose `φ'` reads the pre-activation get it back unchanged.
#[test]
fn other_derivatives_read_the_pre_activation() {
    for e in Elementwise::ALL
        .into_iter()
        .filter(|e| !e.derivative_from_output())
    {
        for z in [-2.5f64, -0.3, 0.0, 0.7, 4.0] {
            assert_eq!(
                e.dphi_stored(z).to_bits(),
                e.dphi(z).to_bits(),
                "{e} at {z}"
            );
        }
    }
}

#[test]
fn known_values() {
    use Elementwise::*;
    assert!((Softplus.phi(1000.0f64) - 1000.0).abs() < 1e-12);
    assert!(Softplus.phi(-1000.0f64) >= 0.0);
    // GELU(0) = 0 and GELU(z) → z for large z.
    assert_eq!(Gelu.phi(0.0f64), 0.0);
    assert!((Gelu.phi(10.0f64) - 10.0).abs() < 1e-9);
    // SiLU(z) = z σ(z): σ(0) = 1/2, σ(ln 3) = 3/4.
    assert_eq!(Silu.phi(0.0f64), 0.0);
    assert!((Silu.phi(3f64.ln()) - 0.75 * 3f64.ln()).abs() < 1e-15);
    assert!(Silu.phi(-1000.0f64).abs() < 1e-300);
    // ELU: identity above 0, e^z − 1 below, continuous derivative at 0.
    assert_eq!(Elu.phi(2.5f64), 2.5);
    assert!((Elu.phi(-1.0f64) - (1.0 / std::f64::consts::E - 1.0)).abs() < 1e-15);
    assert_eq!(Elu.phi(-1000.0f64), -1.0);
    assert_eq!(Elu.dphi(0.0f64), 1.0);
}

#[test]
fn names_round_trip_and_families_partition_the_list() {
    for a in Activation::ALL {
        assert_eq!(Activation::from_name(a.name()), Some(a));
        match a.family() {
            Family::Elementwise(e) => {
                assert_eq!(Activation::from(e), a);
                assert_eq!(a.arity(), None);
            }
            Family::Joint(j) => {
                assert_eq!(Activation::from(j), a);
                assert_eq!(a.arity(), Some(j.arity()));
            }
        }
    }
    assert_eq!(Activation::from_name("swish"), None);
}
