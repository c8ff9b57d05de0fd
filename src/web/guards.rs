//! Permission checks as types: a handler that takes `Require<Official>` cannot run for anyone else.
//! Signed out → redirect to sign-in (then back); signed in without the role → 403.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::context::RequestCtx;
use crate::domain::person::{Role, Roles};
use crate::services::access::StreetScope;
use crate::services::accounts::CurrentUser;
use crate::web::error::AppError;

pub trait Permission {
    fn allows(roles: &Roles) -> bool;
}

/// Anyone signed in.
pub struct SignedIn;
/// Admins.
pub struct Admin;
/// Street officials, and admins (who may do anything an official may, for any street).
pub struct Official;
/// Lawyers.
pub struct Lawyer;
/// Chairs (learners).
pub struct Chair;

impl Permission for SignedIn {
    fn allows(_: &Roles) -> bool {
        true
    }
}
impl Permission for Admin {
    fn allows(r: &Roles) -> bool {
        r.has(Role::Admin)
    }
}
impl Permission for Official {
    fn allows(r: &Roles) -> bool {
        r.has(Role::Official) || r.has(Role::Admin)
    }
}
impl Permission for Lawyer {
    fn allows(r: &Roles) -> bool {
        r.has(Role::Lawyer)
    }
}
impl Permission for Chair {
    fn allows(r: &Roles) -> bool {
        r.has(Role::Chair)
    }
}

/// The signed-in user, proven to hold permission `P`, with the request context.
pub struct Require<P: Permission> {
    pub user: CurrentUser,
    pub ctx: RequestCtx,
    _p: PhantomData<P>,
}

impl<P: Permission> Require<P> {
    pub fn scope(&self) -> StreetScope {
        StreetScope::of(&self.user)
    }
}

impl<P: Permission> FromRequest for Require<P> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(RequestCtx::of(req).and_then(|ctx| match &ctx.user {
            None => {
                // After signing in, come back to the page (for a POST, the page that had the form).
                let next = if req.method() == actix_web::http::Method::GET {
                    ctx.here.clone()
                } else {
                    "/".into()
                };
                Err(AppError::SignInRequired { next })
            }
            Some(u) if P::allows(&u.person.roles) => Ok(Require {
                user: u.clone(),
                ctx: ctx.clone(),
                _p: PhantomData,
            }),
            Some(u) => {
                tracing::info!(person = u.person.id, route = %super::route_of(req), "forbidden");
                Err(AppError::Forbidden)
            }
        }))
    }
}
