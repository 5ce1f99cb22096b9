from typing import Final

class JsException(Exception): ...

class JsNull: ...

jsnull: Final[JsNull]
