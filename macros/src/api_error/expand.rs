//! Model → code: the `ApiError`, `Display`, `Error`, `IntoResponse` and
//! `From` impls, and the fallback emitted beside errors.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, LitStr, Member};

use super::check::status_of_code;
use super::model::{Case, ErrorType, FieldRef, Message, Piece};

/// The impls for a type that passed every check.
pub(crate) fn expand(ty: &ErrorType<'_>) -> TokenStream {
    let ident = ty.ident;
    let (impl_generics, ty_generics, where_clause) = ty.generics.split_for_impl();

    let code_arms = ty.cases.iter().map(|case| {
        let pattern = pattern(case, &[]);
        let code = Literal::u32_unsuffixed(api(case).code.expect("checked").value);
        quote!(#pattern => #code,)
    });
    let status_arms = ty.cases.iter().map(|case| {
        let pattern = pattern(case, &[]);
        let api = api(case);
        let status = match api.status {
            Some(status) => status.value,
            None => status_of_code(api.code.expect("checked").value).expect("checked"),
        };
        let status = Literal::u32_unsuffixed(status);
        quote!(#pattern => const { ::mambo::error::status_from_code(#status) },)
    });
    let message_arms = ty.cases.iter().map(|case| {
        let message = api(case).message.as_ref().expect("checked");
        let pattern = pattern(case, &fields_named_in(message));
        let value = match format_string(message) {
            Some(format) => quote!(::std::borrow::Cow::Owned(::std::format!(#format))),
            None => {
                let text = plain_text(message);
                quote!(::std::borrow::Cow::Borrowed(#text))
            }
        };
        quote!(#pattern => #value,)
    });
    let display_arms = ty.cases.iter().map(|case| {
        let message = api(case).message.as_ref().expect("checked");
        let pattern = pattern(case, &fields_named_in(message));
        let write = match format_string(message) {
            Some(format) => quote!(::std::write!(f, #format)),
            None => {
                let text = plain_text(message);
                quote!(f.write_str(#text))
            }
        };
        quote!(#pattern => #write,)
    });

    let code = match_self(ty, code_arms);
    let status = match_self(ty, status_arms);
    let message = match_self(ty, message_arms);
    let display = match_self(ty, display_arms);
    let source = source_fn(ty);
    let from_impls = from_impls(ty);

    // Spanned on the type's name: a missing `Debug` is reported there.
    let error_impl = quote_spanned! {ident.span()=>
        impl #impl_generics ::std::error::Error for #ident #ty_generics #where_clause {
            #source
        }
    };

    quote! {
        impl #impl_generics ::mambo::ApiError for #ident #ty_generics #where_clause {
            fn code(&self) -> u32 {
                #code
            }

            fn message(&self) -> ::std::borrow::Cow<'_, str> {
                #message
            }

            fn status(&self) -> ::mambo::StatusCode {
                #status
            }
        }

        impl #impl_generics ::std::fmt::Display for #ident #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #display
            }
        }

        #error_impl

        impl #impl_generics ::mambo::IntoResponse for #ident #ty_generics #where_clause {
            fn into_response(self) -> ::mambo::Response {
                ::mambo::error::render_error(&self)
            }
        }

        #from_impls
    }
}

/// `impl From<FieldType>` for each `#[from]` field that can have one: the
/// only field of its case, of a type no earlier `#[from]` field has (the
/// checks reject the others; the fallback still emits the valid ones, so
/// that `?` on them adds no errors of its own).
fn from_impls(ty: &ErrorType<'_>) -> TokenStream {
    let ident = ty.ident;
    let (impl_generics, ty_generics, where_clause) = ty.generics.split_for_impl();
    let mut seen = Vec::new();
    let mut impls = Vec::new();
    for case in &ty.cases {
        let Some(field) = case.field_with_from() else { continue };
        let field_ty = &field.ty;
        let written = field.type_text();
        if case.fields.len() != 1 || seen.contains(&written) {
            continue;
        }
        seen.push(written);
        let path = match case.variant {
            Some(variant) => quote!(Self::#variant),
            None => quote!(Self),
        };
        let value = match &field.member {
            Member::Named(name) => quote!(#path { #name: source }),
            Member::Unnamed(_) => quote!(#path(source)),
        };
        // Spanned on the field's type: a conflicting impl is reported there.
        impls.push(quote_spanned! {field_ty.span()=>
            impl #impl_generics ::core::convert::From<#field_ty> for #ident #ty_generics #where_clause {
                fn from(source: #field_ty) -> Self {
                    #value
                }
            }
        });
    }
    quote!(#(#impls)*)
}

/// Impls that compile whatever the attributes say, emitted beside the
/// errors so that uses of the type (`?`, `Result<_, AppError>` handlers) do
/// not pile more errors on top. They are never run: the build fails.
pub(crate) fn fallback(input: &DeriveInput, model: Option<&ErrorType<'_>>) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let predicates = where_clause.map(|clause| {
        let predicates = &clause.predicates;
        quote!(#predicates,)
    });
    let from_impls = model.map(from_impls);
    quote! {
        impl #impl_generics ::mambo::ApiError for #ident #ty_generics #where_clause {
            fn code(&self) -> u32 {
                ::std::unreachable!()
            }

            fn message(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::unreachable!()
            }
        }

        impl #impl_generics ::std::fmt::Display for #ident #ty_generics #where_clause {
            fn fmt(&self, _: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::unreachable!()
            }
        }

        // The higher-ranked bound stands in for `Self: Debug` (trivial bounds
        // are unstable), so a type without `Debug` adds no second error here.
        impl #impl_generics ::std::error::Error for #ident #ty_generics
        where
            #predicates
            for<'__mambo> #ident #ty_generics: ::std::fmt::Debug,
        {
        }

        impl #impl_generics ::mambo::IntoResponse for #ident #ty_generics #where_clause {
            fn into_response(self) -> ::mambo::Response {
                ::std::unreachable!()
            }
        }

        #from_impls
    }
}

fn api<'c>(case: &'c Case<'_>) -> &'c super::model::ApiAttr {
    case.api.as_ref().expect("checked: every case has `#[api]`")
}

/// `match self { arms }`; `match *self {}` for an enum without variants,
/// since `&Empty` is not itself uninhabited.
fn match_self(ty: &ErrorType<'_>, arms: impl Iterator<Item = TokenStream>) -> TokenStream {
    if ty.cases.is_empty() { quote!(match *self {}) } else { quote!(match self { #(#arms)* }) }
}

/// `Self::Variant { a, 0: _0, .. }` (or `Self { .. }` for a struct), binding
/// the `bound` fields to their [`binding`] names.
fn pattern(case: &Case<'_>, bound: &[Member]) -> TokenStream {
    let path = match case.variant {
        Some(variant) => quote!(Self::#variant),
        None => quote!(Self),
    };
    let fields = bound.iter().map(|member| {
        let name = binding(member);
        match member {
            Member::Named(_) => quote!(#name),
            Member::Unnamed(index) => quote!(#index: #name),
        }
    });
    quote!(#path { #(#fields,)* .. })
}

/// The local name a field is bound to: its own name, or `_0` for field 0.
fn binding(member: &Member) -> Ident {
    match member {
        Member::Named(ident) => ident.clone(),
        Member::Unnamed(index) => format_ident!("_{}", index.index),
    }
}

fn member(field: &FieldRef) -> Member {
    match field {
        FieldRef::Named(name) => Member::Named(format_ident!("{}", name)),
        FieldRef::Index(index) => Member::Unnamed(syn::Index::from(*index)),
    }
}

/// The fields a message shows, each once, in order of first use.
fn fields_named_in(message: &Message) -> Vec<Member> {
    let mut members: Vec<Member> = Vec::new();
    for piece in &message.pieces {
        if let Piece::Field { field, .. } = piece {
            let member = member(field);
            if !members.contains(&member) {
                members.push(member);
            }
        }
    }
    members
}

/// The message as a format string over the field bindings (`{0}` becomes
/// `{_0}`), captured implicitly; `None` when it shows no field.
fn format_string(message: &Message) -> Option<LitStr> {
    if !message.pieces.iter().any(|piece| matches!(piece, Piece::Field { .. })) {
        return None;
    }
    let mut format = String::new();
    for piece in &message.pieces {
        match piece {
            Piece::Text(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Piece::Field { field, spec } => {
                format.push('{');
                format.push_str(&binding(&member(field)).to_string());
                if !spec.is_empty() {
                    format.push(':');
                    format.push_str(spec);
                }
                format.push('}');
            }
        }
    }
    Some(LitStr::new(&format, message.lit.span()))
}

/// The message's text with `{{` and `}}` unescaped, for messages without
/// fields.
fn plain_text(message: &Message) -> LitStr {
    let text: String = message
        .pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.as_str(),
            Piece::Field { .. } => unreachable!("only called for messages without fields"),
        })
        .collect();
    LitStr::new(&text, message.lit.span())
}

/// `fn source`, when some case has a `#[source]` field.
fn source_fn(ty: &ErrorType<'_>) -> Option<TokenStream> {
    let mut arms = Vec::new();
    for case in &ty.cases {
        let Some(field) = case.source() else { continue };
        let pattern = pattern(case, std::slice::from_ref(&field.member));
        let name = binding(&field.member);
        arms.push(quote!(#pattern => ::std::option::Option::Some(#name.as_dyn_error()),));
    }
    if arms.is_empty() {
        return None;
    }
    let rest = (arms.len() < ty.cases.len()).then(|| quote!(_ => ::std::option::Option::None,));
    Some(quote! {
        fn source(&self) -> ::std::option::Option<&(dyn ::std::error::Error + 'static)> {
            use ::mambo::error::AsDynError as _;
            match self {
                #(#arms)*
                #rest
            }
        }
    })
}
