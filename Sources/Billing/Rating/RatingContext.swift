/// What every meter reads while rating: the derivation of the records, the prices' conversions and
/// the accounts.
struct RatingContext: Sendable {
    let derivation: Derivation
    let pricing: Pricing
    let accounts: AccountResolver

    init(derivation: Derivation, policy: BillingPolicy) {
        self.derivation = derivation
        self.pricing = Pricing(policy)
        self.accounts = AccountResolver(rules: policy.accounts, derivation: derivation)
    }
}
