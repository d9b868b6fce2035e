//! A router's metric slots (`metrics:` in `router!`): one `static` array,
//! one slot per route plus one for misses, reached through
//! `Api::__mambo_metrics()`.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};

use crate::router::model::Router;

/// Emits `__mambo_metrics` (an item of `impl Api`) for a router with a
/// `metrics:` route; nothing otherwise.
pub fn emit(router: &Router) -> TokenStream {
    if !router.has_metrics() {
        return quote!();
    }
    let slots = Literal::usize_unsuffixed(router.routes.len() + 1);
    let buckets = match &router.def.metrics_buckets {
        Some((keyword, bounds)) => {
            // Spanned at the list so a bound the runtime refuses (its
            // `const` check panics) is reported there.
            quote_spanned!(keyword.span()=> ::mambo::observe::metrics::Buckets::new(&[#(#bounds as f64),*]))
        }
        None => quote!(::mambo::observe::metrics::Buckets::new(
            ::mambo::observe::metrics::DEFAULT_BUCKETS
        )),
    };
    quote! {
        /// The router's metric slots: one per route, in `ROUTES` order,
        /// then one for requests no route took.
        #[doc(hidden)]
        #[inline(always)]
        // `metrics_buckets: [1, 2.5]` may mix integer and float literals.
        #[allow(clippy::unnecessary_cast)]
        fn __mambo_metrics() -> &'static ::mambo::observe::metrics::RouterMetrics {
            ::mambo::__mambo_needs_metrics!();
            static SLOTS: [::mambo::observe::metrics::RouteSlot; #slots] =
                [::mambo::observe::metrics::RouteSlot::EMPTY; #slots];
            static METRICS: ::mambo::observe::metrics::RouterMetrics =
                ::mambo::observe::metrics::RouterMetrics::new(&SLOTS, #buckets);
            &METRICS
        }
    }
}
