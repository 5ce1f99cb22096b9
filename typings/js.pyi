from typing import Any

globalThis: Any
document: Any
location: Any

class _Reflect:
    @staticmethod
    def has(target: Any, key: str) -> bool: ...
    @staticmethod
    def get(target: Any, key: str | int) -> Any: ...
    @staticmethod
    def set(target: Any, key: str, value: Any) -> bool: ...
    @staticmethod
    def apply(function: Any, this: Any, args: Any) -> Any: ...
    @staticmethod
    def getOwnPropertyDescriptor(target: Any, key: str) -> Any: ...
    @staticmethod
    def construct(target: Any, args: Any) -> Any: ...

Reflect: _Reflect

class _JSON:
    @staticmethod
    def stringify(value: Any) -> str | None: ...
    @staticmethod
    def parse(text: str) -> Any: ...

JSON: _JSON

class AbortSignal:
    aborted: bool
    @staticmethod
    def timeout(ms: int) -> AbortSignal: ...

class AbortController:
    signal: AbortSignal
    @staticmethod
    def new() -> AbortController: ...
    def abort(self) -> None: ...

def __getattr__(name: str) -> Any: ...

navigator: Any
localStorage: Any
BroadcastChannel: Any
