//! Request and response bodies. Requests deny unknown fields (mass-assignment defence);
//! responses are built from service types and never carry a secret's digest.

mod accounts;
mod mfa;

pub use accounts::{
    ChangePasswordRequest, LoginRequest, LoginResponse, Page, RegisterRequest, SessionResponse,
    UpdateMeRequest, UserResponse,
};
pub use mfa::{
    CeremonyResponse, CodeRequest, MfaRequiredResponse, MfaStatusResponse, MfaTokenRequest,
    MfaVerifyRequest, PasskeyNameRequest, PasskeyRegistrationRequest, PasskeyResponse,
    PasswordAndCodeRequest, PasswordRequest, RecoveryCodesResponse, TotpEnrolmentResponse,
    WebauthnAnswer,
};
