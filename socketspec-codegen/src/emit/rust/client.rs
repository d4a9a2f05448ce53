//! The typed Rust client: `pub mod client { ... }` inside the generated
//! module, a thin layer over `socketspec_runtime::client::RawClient` that
//! uses the same payload types as the server.
//!
//! It renders one async method per event (returning the declared reply:
//! its type when there is one, a generated `<Event>Reply` enum when there
//! are several, `()` once sent when there is none), a `ServerEvent` enum
//! over every server event and the protocol's system events, and the
//! connection methods (`connect`, `refresh_auth`, `close`...).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{EventModel, Model, ServerEventModel};

/// Methods of the generated `Client` itself; an event whose method name is
/// one of these gets the suffix `_event` (`close` -> `close_event`).
const CLIENT_METHODS: [&str; 16] = [
    "connect",
    "connect_with",
    "from_raw",
    "raw",
    "into_raw",
    "connect_info",
    "connection_id",
    "next_event",
    "events",
    "refresh_auth",
    "close",
    "close_with",
    "closed",
    "clone",
    "fmt",
    "is_connected",
];

/// Variants of `ServerEvent` for the protocol's own events; a server event
/// whose type has one of these names gets the suffix `Event`.
const SYSTEM_VARIANTS: [&str; 12] = [
    "Connect",
    "Disconnect",
    "Ping",
    "ServerShutdown",
    "AuthExpiring",
    "SessionExpiring",
    "IdleWarning",
    "AuthRefreshed",
    "Error",
    "Closed",
    "Lagged",
    "Unrecognized",
];

/// The name of the client method for `event`.
pub fn method_name(event: &EventModel) -> String {
    let bare = event.method.trim_start_matches("r#");
    if CLIENT_METHODS.contains(&bare) {
        format!("{bare}_event")
    } else {
        event.method.clone()
    }
}

/// The `ServerEvent` variant for a server event.
pub fn variant_name(message: &ServerEventModel) -> String {
    if SYSTEM_VARIANTS.contains(&message.type_name.as_str()) {
        format!("{}Event", message.type_name)
    } else {
        message.type_name.clone()
    }
}

fn ident(name: &str) -> syn::Ident {
    match name.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, proc_macro2::Span::call_site()),
        None => format_ident!("{}", name),
    }
}

/// The doc comment of a server event's variant: its name and description.
fn server_event_doc(m: &ServerEventModel) -> TokenStream {
    let text = match &m.description {
        Some(d) => format!("`{}`: {d}", m.name),
        None => format!("`{}`.", m.name),
    };
    doc_lines(&text)
}

fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| format!(" {l}"));
    quote! { #(#[doc = #lines])* }
}

/// Renders `pub mod client { ... }` for `model`.
pub fn client_module(model: &Model) -> TokenStream {
    let title = &model.info.title;
    let module_doc = doc_lines(&format!(
        "A typed async client for {title}, generated from the spec: one method per event,\n\
         replies matched to their request by `id`, and a typed stream ([`ServerEvent`](client::ServerEvent))\n\
         of everything else the server sends. `__pong__` is automatic.\n\
         \n\
         It uses the same payload types as the server (`super::*`) and speaks\n\
         the socketspec wire protocol through `socketspec_runtime::client`."
    ));
    let server_event = server_event_enum(model);
    let replies = model
        .events
        .iter()
        .filter(|e| e.emits.len() > 1)
        .map(|e| reply_enum(model, e));
    let client = client_struct(model);
    quote! {
        #module_doc
        pub mod client {
            pub use ::socketspec_runtime::client::{
                ClientError, ClientOptions, CloseInfo, ConnectInfo, RawClient, ReconnectPolicy, ServerError,
            };
            pub use ::socketspec_runtime::ErrorCode;

            #server_event
            #(#replies)*
            #client
        }
    }
}

fn server_event_enum(model: &Model) -> TokenStream {
    let variants = model.server_events.iter().map(|m| {
        let variant = format_ident!("{}", variant_name(m));
        let ty = format_ident!("{}", m.type_name);
        let doc = server_event_doc(m);
        quote! { #doc #variant(super::#ty), }
    });
    let arms = model.server_events.iter().map(|m| {
        let variant = format_ident!("{}", variant_name(m));
        let name = &m.name;
        quote! { #name => message.decode().ok().map(ServerEvent::#variant), }
    });
    quote! {
        /// Everything the server sends that is not the reply to a pending
        /// request: broadcasts, replies nobody awaits, the protocol's system
        /// events, and what happens to the connection.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ServerEvent {
            #(#variants)*
            /// `__connect__`: the connection is established (also again after a reconnect).
            Connect(ConnectInfo),
            /// `__disconnect__`: the server is about to close the connection.
            Disconnect {
                /// Why (`idle_timeout`, `server_shutdown`, `auth_expired`...).
                reason: ::std::string::String,
            },
            /// `__ping__`: a heartbeat (the client has already answered it).
            Ping,
            /// `__server_shutdown__`: the server is shutting down gracefully.
            ServerShutdown {
                /// How long in-flight handlers may still run.
                grace: ::std::time::Duration,
            },
            /// `__auth_expiring__`: the credential expires soon; call [`Client::refresh_auth`].
            AuthExpiring {
                /// Time left.
                expires_in: ::std::time::Duration,
            },
            /// `__session_expiring__`: the connection reaches its maximum duration soon.
            SessionExpiring {
                /// Time left.
                expires_in: ::std::time::Duration,
            },
            /// `__idle_warning__`: the idle timeout closes the connection soon.
            IdleWarning {
                /// Time left.
                expires_in: ::std::time::Duration,
            },
            /// `__refresh_auth__` that no [`Client::refresh_auth`] call awaited.
            AuthRefreshed {
                /// The new credential's remaining lifetime, when it expires.
                expires_in: ::core::option::Option<::std::time::Duration>,
            },
            /// `__error__` that no request awaited: errors of events sent
            /// without awaiting a reply, and errors that end the connection
            /// (`IDLE_TIMEOUT`, `SESSION_EXPIRED`, `AUTH_EXPIRED`).
            Error(ClientError),
            /// The connection closed. With reconnection on and `reconnecting`
            /// true, a [`ServerEvent::Connect`] follows once connected again;
            /// otherwise the stream ends after this.
            Closed {
                /// The WebSocket close code, when the server sent one
                /// (1001 shutdown, 4001 auth, 4002 idle, 4003 session, 4004 heartbeat).
                code: ::core::option::Option<u16>,
                /// The `__disconnect__` reason, or what the transport reported.
                reason: ::std::string::String,
                /// Whether the client is reconnecting.
                reconnecting: bool,
            },
            /// This many messages were dropped because nobody read the stream
            /// fast enough (see `ClientOptions::event_buffer`).
            Lagged {
                /// How many.
                missed: u64,
            },
            /// A message this client does not know, or whose payload does not
            /// match the spec's type for it (a newer server, or a spec mismatch).
            Unrecognized {
                /// The event name.
                event: ::std::string::String,
                /// The raw payload.
                payload: ::socketspec_runtime::__private::serde_json::Value,
            },
        }

        impl ServerEvent {
            /// Types one item of the raw client's event stream.
            pub fn from_incoming(item: ::socketspec_runtime::client::Incoming) -> ServerEvent {
                use ::socketspec_runtime::client::{Incoming, SystemEvent};
                let message = match item {
                    Incoming::Message(message) => message,
                    Incoming::Closed(info) => {
                        return ServerEvent::Closed {
                            code: info.code,
                            reason: info.reason,
                            reconnecting: info.reconnecting,
                        };
                    }
                    Incoming::Lagged(missed) => return ServerEvent::Lagged { missed },
                };
                let typed = match SystemEvent::parse(&message) {
                    Some(SystemEvent::Connect(info)) => Some(ServerEvent::Connect(info)),
                    Some(SystemEvent::Disconnect { reason }) => Some(ServerEvent::Disconnect { reason }),
                    Some(SystemEvent::Ping) => Some(ServerEvent::Ping),
                    Some(SystemEvent::ServerShutdown { grace }) => Some(ServerEvent::ServerShutdown { grace }),
                    Some(SystemEvent::AuthExpiring { expires_in }) => Some(ServerEvent::AuthExpiring { expires_in }),
                    Some(SystemEvent::SessionExpiring { expires_in }) => Some(ServerEvent::SessionExpiring { expires_in }),
                    Some(SystemEvent::IdleWarning { expires_in }) => Some(ServerEvent::IdleWarning { expires_in }),
                    Some(SystemEvent::AuthRefreshed { expires_in }) => Some(ServerEvent::AuthRefreshed { expires_in }),
                    Some(SystemEvent::Error(error)) => Some(ServerEvent::Error(error)),
                    Some(_) => None,
                    None => match message.event.as_str() {
                        #(#arms)*
                        _ => None,
                    },
                };
                typed.unwrap_or(ServerEvent::Unrecognized {
                    event: message.event,
                    payload: message.payload,
                })
            }
        }
    }
}

fn reply_enum_ident(event: &EventModel) -> syn::Ident {
    format_ident!("{}Reply", event.type_name)
}

fn reply_enum(model: &Model, event: &EventModel) -> TokenStream {
    let name = reply_enum_ident(event);
    let doc = format!(" The replies `{}` may get.", event.name);
    let variants = event.emits.iter().map(|i| {
        let m = &model.server_events[*i];
        let variant = format_ident!("{}", m.type_name);
        let ty = format_ident!("{}", m.type_name);
        let doc = server_event_doc(m);
        quote! { #doc #variant(super::#ty), }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
        }
    }
}

fn event_method(model: &Model, event: &EventModel) -> TokenStream {
    let method = ident(&method_name(event));
    let ty = format_ident!("{}", event.type_name);
    let name = &event.name;
    let mut text = match &event.description {
        Some(d) => format!("{d}\n\n"),
        None => String::new(),
    };
    text.push_str(&format!("Sends `{name}` with a fresh request id"));
    let deprecated = event
        .deprecated
        .then(|| quote!(#[deprecated(note = "this event is deprecated in the spec")]));
    let (ret, body) = match event.emits.as_slice() {
        [] => {
            text.push_str(
                " and returns once it is written (the spec declares no reply).\n\
                 An error the server reports for it arrives on the event stream\n\
                 as [`ServerEvent::Error`], with this request's id.",
            );
            (
                quote!(()),
                quote! { self.raw.send(#name, &payload).await.map(|_| ()) },
            )
        }
        [single] => {
            let m = &model.server_events[*single];
            let reply_ty = format_ident!("{}", m.type_name);
            let reply = &m.name;
            text.push_str(&format!(
                " and returns its reply `{reply}`, or the server's error\n\
                 ([`ClientError::Server`] with its [`ErrorCode`])."
            ));
            (
                quote!(super::#reply_ty),
                quote! { self.raw.request(#name, &payload).await?.decode(#reply) },
            )
        }
        several => {
            let enum_name = reply_enum_ident(event);
            let names: Vec<&str> = several
                .iter()
                .map(|i| model.server_events[*i].name.as_str())
                .collect();
            let list = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            text.push_str(&format!(
                " and returns its reply (one of {list}), or the server's error\n\
                 ([`ClientError::Server`] with its [`ErrorCode`])."
            ));
            let arms = several.iter().map(|i| {
                let m = &model.server_events[*i];
                let variant = format_ident!("{}", m.type_name);
                let reply = &m.name;
                quote! { #reply => reply.decode_any().map(#enum_name::#variant), }
            });
            (
                quote!(#enum_name),
                quote! {
                    let reply = self.raw.request(#name, &payload).await?;
                    match reply.event.as_str() {
                        #(#arms)*
                        _ => Err(reply.unexpected(&[#(#names),*])),
                    }
                },
            )
        }
    };
    let doc = doc_lines(&text);
    quote! {
        #doc
        #deprecated
        pub async fn #method(&self, payload: super::#ty) -> ::core::result::Result<#ret, ClientError> {
            #body
        }
    }
}

fn client_struct(model: &Model) -> TokenStream {
    let title = &model.info.title;
    let doc = doc_lines(&format!(
        "A connection to a {title} server.\n\
         \n\
         Cheap to clone: clones share the connection, so one client can have\n\
         many requests in flight from many tasks. It closes when the last clone\n\
         is dropped, or with [`Client::close`].\n\
         \n\
         ```text\n\
         let client = Client::connect(\"ws://127.0.0.1:8080/ws\").await?;\n\
         while let Some(event) = client.next_event().await {{\n\
         \x20   println!(\"{{event:?}}\");\n\
         }}\n\
         ```"
    ));
    let methods = model.events.iter().map(|e| event_method(model, e));
    quote! {
        #doc
        #[derive(Debug, Clone)]
        pub struct Client {
            raw: RawClient,
        }

        impl Client {
            /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) with the default
            /// options and waits for `__connect__`. A refused credential is
            /// [`ClientError::Server`] with [`ErrorCode::AuthError`].
            pub async fn connect(url: &str) -> ::core::result::Result<Client, ClientError> {
                Client::connect_with(url, ClientOptions::new()).await
            }

            /// Connects to `url` with `options` (headers, JWT or API key,
            /// request timeout, reconnection).
            pub async fn connect_with(url: &str, options: ClientOptions) -> ::core::result::Result<Client, ClientError> {
                RawClient::connect(url, options).await.map(Client::from_raw)
            }

            /// A typed client over an already connected raw client (any
            /// transport, e.g. `socketspec_runtime::testing::TestClient::into_raw`).
            pub fn from_raw(raw: RawClient) -> Client {
                Client { raw }
            }

            /// The untyped protocol client underneath.
            pub fn raw(&self) -> &RawClient {
                &self.raw
            }

            /// The untyped protocol client underneath, by value.
            pub fn into_raw(self) -> RawClient {
                self.raw
            }

            /// What the server announced in the current connection's
            /// `__connect__`; `None` while reconnecting or once closed.
            pub fn connect_info(&self) -> ::core::option::Option<ConnectInfo> {
                self.raw.connect_info()
            }

            /// The current connection's id, when connected.
            pub fn connection_id(&self) -> ::core::option::Option<::std::string::String> {
                self.raw.connect_info().map(|info| info.connection_id)
            }

            /// Whether the client is connected right now.
            pub fn is_connected(&self) -> bool {
                self.raw.is_connected()
            }

            #(#methods)*

            /// The next thing the server sent that is not a reply to a
            /// request; `None` once the client is closed and the stream drained.
            pub async fn next_event(&self) -> ::core::option::Option<ServerEvent> {
                self.raw.next_event().await.map(ServerEvent::from_incoming)
            }

            /// The event stream as a `Stream` (see [`Client::next_event`]).
            pub fn events(&self) -> impl ::socketspec_runtime::client::Stream<Item = ServerEvent> + ::core::marker::Send + '_ {
                self.raw.events_as(ServerEvent::from_incoming)
            }

            /// Offers a new JWT (`__refresh_auth__`); returns the new
            /// credential's remaining lifetime. A refusal is `AUTH_ERROR` and
            /// the old credential stays in force. The new token is also used
            /// for reconnects.
            pub async fn refresh_auth(&self, token: &str) -> ::core::result::Result<::core::option::Option<::std::time::Duration>, ClientError> {
                self.raw.refresh_auth(token).await
            }

            /// Closes the connection normally (1000) and turns reconnection off.
            pub async fn close(&self) -> ::core::result::Result<(), ClientError> {
                self.raw.close(1000, "client_close").await
            }

            /// Closes the connection with `code` and `reason`.
            pub async fn close_with(&self, code: u16, reason: &str) -> ::core::result::Result<(), ClientError> {
                self.raw.close(code, reason).await
            }

            /// Waits until the client is closed for good; returns how.
            pub async fn closed(&self) -> CloseInfo {
                self.raw.closed().await
            }
        }
    }
}
