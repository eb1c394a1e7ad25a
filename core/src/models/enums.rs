//! The vendor's open enumerations: a value it adds later passes through as `Other`.
//!
//! The vendor extends its service and action lists without notice; refusing an unknown value
//! would break every caller the day it appears.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! open_enum {
    (
        $(#[doc = $doc:literal])*
        $name:ident { $( $(#[doc = $vdoc:literal])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )+
            /// A value this version of the library does not know, passed through unchanged.
            Other(#[cfg_attr(feature = "uniffi", uniffi(name = "value"))] String),
        }

        impl $name {
            /// Every value this library knows, in documentation order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The type's doc and, per known value, its Rust name, wire value and doc: what the
            /// JSON Schema of the type says (`schema.rs`).
            #[cfg(feature = "schema")]
            pub(crate) const SCHEMA: (&'static str, &'static [(&'static str, &'static str, &'static str)]) = (
                concat!($($doc, "\n"),*),
                &[ $( (stringify!($variant), $wire, concat!($($vdoc, "\n"),*)) ),+ ],
            );

            /// The value as the vendor spells it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Reads a wire value; unknown values become `Other`.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                String::deserialize(deserializer).map(|s| Self::from_wire(&s))
            }
        }
    };
}

open_enum! {
    /// A service an enterprise subscribes to (`services` in the create body).
    Service {
        /// Teams calling through the provider's PBX; needs SBC gateways and a PBX type.
        Pbx => "PBX",
        /// Direct-routing trunk; needs SBC gateways.
        Trunk => "Trunk",
        /// The CallApp add-on; needs a PBX type and the CallApp consent.
        CallApp => "CALLAPP",
        /// The Call Recording add-on.
        CallRecording => "CallRecording",
        /// SMS.
        Sms => "SMS",
        /// Chat.
        Chat => "CHAT",
    }
}

impl Service {
    /// True for the calling services that need SBC gateways (PBX, Trunk).
    pub fn needs_gateways(&self) -> bool {
        matches!(self, Service::Pbx | Service::Trunk)
    }

    /// True for the services that need a PBX type (PBX, CallApp).
    pub fn needs_pbx_type(&self) -> bool {
        matches!(self, Service::Pbx | Service::CallApp)
    }
}

open_enum! {
    /// What a Global Admin is asked to do at an action item URL (`actionType`).
    ActionType {
        /// Register the enterprise (Part II).
        Registration => "REGISTRATION",
        /// Sign in again to hand over a fresh MSAL token.
        LoginEnterpriseAdmin => "LOGIN_ENTERPRISE_ADMIN",
        /// The mandatory user sync consent.
        GetUserSyncConsent => "GET_USER_SYNC_CONSENT",
        /// The mandatory presence consent.
        GetPresenceConsent => "GET_PRESENCE_CONSENT",
        /// The mandatory "App Deployment Agent" consent.
        GetAgentConsent => "GET_AGENT_CONSENT",
        /// The CallApp consent, mandatory with the CallApp add-on.
        GetCallAppConsent => "GET_CALL_APP_CONSENT",
        /// "Allow Management by Service Provider" (optional, recommended).
        GetServiceProviderManagementConsent => "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
        /// Optional contacts sync consent.
        GetContactsConsent => "GET_CONTACTS_CONSENT",
        /// Optional call records (CDR) consent.
        GetCdrConsent => "GET_CDR_CONSENT",
        /// Call recording consent (ASSUMED name: the vendor does not publish it).
        GetCallRecordingConsent => "GET_CALL_RECORDING_CONSENT",
    }
}
