//! Checking a request against the app's signing policy ([`SigningPolicy`]). A refusal names
//! the rule, so an app can tell its user why; the daily total is counted by the store, after
//! every other rule passed ([`crate::ports::signing::SigningStore::reserve_daily`]).

use alloy_primitives::U256;

use crate::model::policy::SigningPolicy;
use crate::model::rpc::{EthTransaction, Method};
use crate::model::validation::FieldError;

/// A refusal: the rule (`signing_policy.<rule>`) and why.
pub type Refusal = FieldError;

fn refuse(rule: &str, message: impl Into<String>) -> Refusal {
    FieldError::new(format!("signing_policy.{rule}"), message)
}

/// The method must be allowed.
pub fn check_method(policy: &SigningPolicy, method: Method) -> Result<(), Refusal> {
    match &policy.methods {
        Some(methods) if !methods.iter().any(|allowed| allowed == method.as_str()) => Err(refuse(
            "methods",
            format!("{method} is not among the allowed methods"),
        )),
        _ => Ok(()),
    }
}

/// An ethereum transaction's chain, destination and value.
pub fn check_transaction(policy: &SigningPolicy, tx: &EthTransaction) -> Result<(), Refusal> {
    if let Some(ids) = &policy.chain_ids
        && !ids.contains(&tx.chain_id)
    {
        return Err(refuse(
            "chain_ids",
            format!("chain {} is not among the allowed chains", tx.chain_id),
        ));
    }
    let to = tx.to.map(|to| format!("{to:#x}"));
    check_destinations(policy, to.as_slice(), tx.to.is_none())?;
    check_value(policy, tx.value)
}

/// Destinations (`to`, or a Solana transaction's programs and transfer recipients); `None`
/// when they cannot all be known. `deploys`: an ethereum contract creation, which has none.
pub fn check_destinations(
    policy: &SigningPolicy,
    destinations: &[String],
    deploys: bool,
) -> Result<(), Refusal> {
    if let Some(denied) = destinations
        .iter()
        .find(|destination| policy.denied_to.contains(destination))
    {
        return Err(refuse("denied_to", format!("{denied} is denied")));
    }
    if let Some(allowed) = &policy.allowed_to {
        if deploys {
            return Err(refuse(
                "allowed_to",
                "a contract deployment goes to no allowed address",
            ));
        }
        if let Some(other) = destinations
            .iter()
            .find(|destination| !allowed.contains(destination))
        {
            return Err(refuse(
                "allowed_to",
                format!("{other} is not among the allowed addresses"),
            ));
        }
    }
    Ok(())
}

/// Destinations that could not be read (a Solana transaction using address lookup tables)
/// pass only a policy that names none.
pub fn check_unknown_destinations(policy: &SigningPolicy) -> Result<(), Refusal> {
    if policy.allowed_to.is_some() || !policy.denied_to.is_empty() {
        return Err(refuse(
            "allowed_to",
            "the transaction's accounts are in address lookup tables, which cannot be checked \
             against the allowed and denied addresses",
        ));
    }
    Ok(())
}

/// One transaction's native value.
pub fn check_value(policy: &SigningPolicy, value: U256) -> Result<(), Refusal> {
    match SigningPolicy::limit(&policy.max_value) {
        Some(limit) if value > limit => Err(refuse(
            "max_value",
            format!("the transaction moves {value}; at most {limit} per transaction"),
        )),
        _ => Ok(()),
    }
}

/// What a transaction can cost, fees included, against the per-transaction limit.
pub fn check_cost(policy: &SigningPolicy, cost: U256) -> Result<(), Refusal> {
    match SigningPolicy::limit(&policy.max_value) {
        Some(limit) if cost > limit => Err(refuse(
            "max_value",
            format!(
                "the transaction can cost {cost} with its fees; at most {limit} per transaction"
            ),
        )),
        _ => Ok(()),
    }
}

/// Programs that act with the wallet's signature move what cannot be counted before they
/// run: under a value limit, each must be one the app allows by name.
pub fn check_uncounted(policy: &SigningPolicy, programs: &[String]) -> Result<(), Refusal> {
    let limited = policy.max_value.is_some() || policy.max_value_per_day.is_some();
    let allowed = |program: &String| {
        policy
            .allowed_to
            .as_ref()
            .is_some_and(|allowed| allowed.contains(program))
    };
    match programs.iter().find(|program| !allowed(program)) {
        Some(program) if limited => Err(refuse(
            "max_value",
            format!(
                "{program} acts with the wallet's signature: what it moves cannot be counted \
                 before it runs (name the program in allowed_to to accept that)"
            ),
        )),
        _ => Ok(()),
    }
}

/// The refusal when a day's total would pass the limit.
pub fn over_daily_limit(policy: &SigningPolicy) -> Refusal {
    let limit = policy.max_value_per_day.clone().unwrap_or_default();
    refuse(
        "max_value_per_day",
        format!("this wallet would move more than {limit} today (UTC)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rpc::TransactionKind;
    use alloy_primitives::Address;

    fn tx(to: Option<Address>, value: u64) -> EthTransaction {
        EthTransaction {
            kind: TransactionKind::Eip1559,
            chain_id: 1,
            to,
            value: U256::from(value),
            data: Vec::new(),
            nonce: None,
            gas_limit: None,
            gas_price: None,
            max_fee_per_gas: None,
            max_priority_fee_per_gas: None,
        }
    }

    fn rule(result: Result<(), Refusal>) -> String {
        result.unwrap_err().field
    }

    #[test]
    fn each_rule_refuses_by_name() {
        let dead = Address::repeat_byte(0xde);
        let policy = SigningPolicy {
            methods: Some(vec!["eth_sendTransaction".into()]),
            chain_ids: Some(vec![1]),
            max_value: Some("100".into()),
            denied_to: vec![format!("{:#x}", Address::repeat_byte(0xbb))],
            ..Default::default()
        };
        assert!(check_method(&policy, Method::SendTransaction).is_ok());
        assert_eq!(
            rule(check_method(&policy, Method::PersonalSign)),
            "signing_policy.methods"
        );
        assert!(check_transaction(&policy, &tx(Some(dead), 100)).is_ok());
        assert_eq!(
            rule(check_transaction(&policy, &tx(Some(dead), 101))),
            "signing_policy.max_value"
        );
        let mut other_chain = tx(Some(dead), 1);
        other_chain.chain_id = 5;
        assert_eq!(
            rule(check_transaction(&policy, &other_chain)),
            "signing_policy.chain_ids"
        );
        assert_eq!(
            rule(check_transaction(
                &policy,
                &tx(Some(Address::repeat_byte(0xbb)), 1)
            )),
            "signing_policy.denied_to"
        );
        let only_dead = SigningPolicy {
            allowed_to: Some(vec![format!("{dead:#x}")]),
            ..Default::default()
        };
        assert!(check_transaction(&only_dead, &tx(Some(dead), 1)).is_ok());
        assert_eq!(
            rule(check_transaction(&only_dead, &tx(None, 0))),
            "signing_policy.allowed_to"
        );
        assert_eq!(
            rule(check_transaction(&only_dead, &tx(Some(Address::ZERO), 0))),
            "signing_policy.allowed_to"
        );
        assert!(check_transaction(&SigningPolicy::default(), &tx(None, u64::MAX)).is_ok());
    }

    #[test]
    fn what_cannot_be_counted_passes_a_value_limit_only_when_named() {
        let program = "8qbHbw2BbbTHBW1sbeqakYXVKRQM8Ne7pLK7m6CVfeR".to_owned();
        let programs = vec![program.clone()];
        assert!(check_uncounted(&SigningPolicy::default(), &programs).is_ok());
        let limited = SigningPolicy {
            max_value_per_day: Some("10".into()),
            ..Default::default()
        };
        assert_eq!(
            rule(check_uncounted(&limited, &programs)),
            "signing_policy.max_value"
        );
        let named = SigningPolicy {
            allowed_to: Some(vec![program]),
            ..limited
        };
        assert!(check_uncounted(&named, &programs).is_ok());
        assert!(check_cost(&named, U256::from(11)).is_ok());
        let capped = SigningPolicy {
            max_value: Some("10".into()),
            ..Default::default()
        };
        assert_eq!(
            rule(check_cost(&capped, U256::from(11))),
            "signing_policy.max_value"
        );
    }
}
