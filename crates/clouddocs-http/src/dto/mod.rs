//! Request and response bodies. Requests deny unknown fields (mass-assignment defence);
//! responses are built from service types and never carry a secret's digest.

mod accounts;

pub use accounts::{
    ChangePasswordRequest, LoginRequest, LoginResponse, Page, RegisterRequest, SessionResponse,
    UpdateMeRequest, UserResponse,
};
