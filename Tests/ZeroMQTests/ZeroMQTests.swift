import XCTest

@testable import ZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every blocking wait in these tests is bounded by a receive timeout or a poll timeout of at most this.
private let waitLimit = 2000

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func milliseconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000
}

final class ZeroMQTests: XCTestCase {
    private var context: ZMQContext!

    override func setUpWithError() throws {
        context = try ZMQContext()
    }

    override func tearDown() {
        context = nil
    }

    /// A socket with linger 0 (so the context never waits at teardown) and a bounded receive timeout.
    private func makeSocket(_ type: SocketType) throws -> ZMQSocket {
        let socket = try ZMQSocket(context: context, type: type)
        try socket.setLinger(0)
        try socket.setReceiveTimeout(waitLimit)
        return socket
    }

    /// A bound socket and the endpoint it chose.
    private func makeBound(_ type: SocketType) throws -> (ZMQSocket, String) {
        let socket = try makeSocket(type)
        try socket.bind("tcp://127.0.0.1:*")
        return (socket, try socket.lastEndpoint)
    }

    func testVersionIsFour() {
        XCTAssertEqual(ZeroMQ.version.major, 4)
        XCTAssertGreaterThanOrEqual(ZeroMQ.version.minor, 0)
    }

    func testBindWildcardReportsPort() throws {
        let (_, endpoint) = try makeBound(.router)
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        let port = Int(endpoint.split(separator: ":").last ?? "")
        XCTAssertNotNil(port, endpoint)
        XCTAssertGreaterThan(port ?? 0, 0)
    }

    func testRouterDealerRoundTripWithEmptyFrame() throws {
        let (router, endpoint) = try makeBound(.router)
        let dealer = try makeSocket(.dealer)
        try dealer.setRoutingID(bytes("worker-7"))
        XCTAssertEqual(try dealer.routingID, bytes("worker-7"))
        try dealer.connect(endpoint)

        let request: [[UInt8]] = [bytes("job"), [], bytes("payload")]
        XCTAssertTrue(try dealer.send(request))

        let received = try XCTUnwrap(try router.receive(), "router timed out")
        XCTAssertEqual(received, [bytes("worker-7")] + request)

        XCTAssertTrue(try router.send([received[0], [], bytes("done")]))
        let reply = try XCTUnwrap(try dealer.receive(), "dealer timed out")
        XCTAssertEqual(reply, [[], bytes("done")])
    }

    func testPollTimesOutEmptyThenReportsReadable() throws {
        let (pull, endpoint) = try makeBound(.pull)
        let push = try makeSocket(.push)
        try push.connect(endpoint)

        let start = DispatchTime.now()
        let idle = try ZMQPoller.poll([(socket: pull, events: .readable)], timeoutMilliseconds: 50)
        let elapsed = milliseconds(since: start)
        XCTAssertEqual(idle, [[]])
        XCTAssertGreaterThanOrEqual(elapsed, 40)
        XCTAssertLessThan(elapsed, 1000)

        XCTAssertTrue(try push.send([bytes("x")]))
        let ready = try ZMQPoller.poll(
            [(socket: pull, events: .readable), (socket: push, events: .readable)],
            timeoutMilliseconds: waitLimit)
        XCTAssertEqual(ready, [.readable, []])
        XCTAssertEqual(try pull.receive(dontWait: true), [bytes("x")])
    }

    func testPollReportsWritable() throws {
        let (pull, endpoint) = try makeBound(.pull)
        let push = try makeSocket(.push)
        try push.connect(endpoint)
        let ready = try ZMQPoller.poll([(socket: push, events: .writable)], timeoutMilliseconds: waitLimit)
        XCTAssertEqual(ready, [.writable])
        XCTAssertFalse(pull.isClosed)
    }

    func testReceiveTimeoutReturnsNil() throws {
        let (pull, _) = try makeBound(.pull)
        try pull.setReceiveTimeout(50)
        XCTAssertEqual(try pull.receiveTimeout, 50)
        let start = DispatchTime.now()
        XCTAssertNil(try pull.receive())
        let elapsed = milliseconds(since: start)
        XCTAssertGreaterThanOrEqual(elapsed, 40)
        XCTAssertLessThan(elapsed, 1000)
        XCTAssertNil(try pull.receive(dontWait: true))
    }

    func testRouterMandatoryUnknownIdentityThrowsHostUnreachable() throws {
        let (router, _) = try makeBound(.router)
        try router.setRouterMandatory(true)
        XCTAssertThrowsError(try router.send([bytes("nobody"), bytes("hello")])) { error in
            guard let error = error as? ZMQError else { return XCTFail("not a ZMQError: \(error)") }
            XCTAssertEqual(error.code, EHOSTUNREACH)
            XCTAssertTrue(error.isHostUnreachable)
            XCTAssertEqual(error.function, "zmq_send")
        }
        XCTAssertEqual(router.bytesSent, 0)
    }

    func testRouterWithoutMandatoryDropsSilently() throws {
        let (router, _) = try makeBound(.router)
        XCTAssertTrue(try router.send([bytes("nobody"), bytes("hello")]))
    }

    func testDontWaitOnUnconnectedDealerReturnsFalse() throws {
        let dealer = try makeSocket(.dealer)
        XCTAssertFalse(try dealer.send([bytes("a"), bytes("b")], dontWait: true))
        XCTAssertEqual(dealer.bytesSent, 0)
    }

    func testSendTimeoutOnUnconnectedDealerReturnsFalse() throws {
        let dealer = try makeSocket(.dealer)
        try dealer.setSendTimeout(50)
        XCTAssertFalse(try dealer.send([bytes("a")]))
    }

    func testByteCountersAddUp() throws {
        let (pull, endpoint) = try makeBound(.pull)
        let push = try makeSocket(.push)
        try push.connect(endpoint)

        XCTAssertTrue(try push.send([bytes("abc"), [], bytes("hello")]))  // 8 bytes
        XCTAssertTrue(try push.send([bytes("0123456789")]))  // 10 bytes
        XCTAssertEqual(push.bytesSent, 18)

        XCTAssertEqual(try pull.receive()?.count, 3)
        XCTAssertEqual(pull.bytesReceived, 8)
        XCTAssertEqual(try pull.receive(), [bytes("0123456789")])
        XCTAssertEqual(pull.bytesReceived, 18)
        XCTAssertEqual(pull.bytesSent, 0)
        XCTAssertEqual(push.bytesReceived, 0)
    }

    func testRouterCountsRoutingIDFrames() throws {
        let (router, endpoint) = try makeBound(.router)
        let dealer = try makeSocket(.dealer)
        try dealer.setRoutingID([1, 2, 3, 4])
        try dealer.connect(endpoint)
        XCTAssertTrue(try dealer.send([bytes("hi")]))
        XCTAssertEqual(try router.receive(), [[1, 2, 3, 4], bytes("hi")])
        XCTAssertEqual(router.bytesReceived, 6)
        XCTAssertEqual(dealer.bytesSent, 2)
    }

    func testLargeFrameRoundTrip() throws {
        let (pull, endpoint) = try makeBound(.pull)
        let push = try makeSocket(.push)
        try push.connect(endpoint)
        let big = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        XCTAssertTrue(try push.send([big, [7]]))
        XCTAssertEqual(try pull.receive(), [big, [7]])
    }

    func testPubSubPrefixFilter() throws {
        let (pub, endpoint) = try makeBound(.pub)
        let sub = try makeSocket(.sub)
        try sub.setReceiveTimeout(20)
        try sub.subscribe(bytes("keep"))
        try sub.connect(endpoint)
        // Subscriptions propagate asynchronously: publish until one arrives, at most 100 × 20 ms.
        var received: [[UInt8]]?
        for _ in 0..<100 where received == nil {
            XCTAssertTrue(try pub.send([bytes("drop"), [1]]))
            XCTAssertTrue(try pub.send([bytes("keep"), [2]]))
            received = try sub.receive()
        }
        XCTAssertEqual(received, [bytes("keep"), [2]])
    }

    func testOptionsRoundTrip() throws {
        let socket = try makeSocket(.dealer)
        try socket.setLinger(250)
        try socket.setSendHighWaterMark(10)
        try socket.setReceiveHighWaterMark(20)
        try socket.setSendTimeout(30)
        try socket.setImmediate(true)
        try socket.setHeartbeatInterval(1000)
        try socket.setHeartbeatTimeout(3000)
        try socket.setHeartbeatTTL(5000)
        XCTAssertEqual(try socket.linger, 250)
        XCTAssertEqual(try socket.sendHighWaterMark, 10)
        XCTAssertEqual(try socket.receiveHighWaterMark, 20)
        XCTAssertEqual(try socket.sendTimeout, 30)
        XCTAssertEqual(try socket.receiveTimeout, waitLimit)
        XCTAssertEqual(try socket.immediate, true)
        XCTAssertEqual(try socket.heartbeatInterval, 1000)
        XCTAssertEqual(try socket.heartbeatTimeout, 3000)
        XCTAssertEqual(try socket.heartbeatTTL, 5000)
        XCTAssertEqual(try socket.lastEndpoint, "")
    }

    func testInvalidOptionValuesThrow() throws {
        let socket = try makeSocket(.dealer)
        XCTAssertThrowsError(try socket.setRoutingID([])) { XCTAssertEqual(($0 as? ZMQError)?.code, EINVAL) }
        XCTAssertThrowsError(try socket.setRoutingID(Array(repeating: 1, count: 256))) {
            XCTAssertEqual(($0 as? ZMQError)?.code, EINVAL)
        }
        XCTAssertThrowsError(try socket.setLinger(Int(Int32.max) + 1)) {
            XCTAssertEqual(($0 as? ZMQError)?.code, EINVAL)
        }
        XCTAssertThrowsError(try socket.subscribe(bytes("x"))) { XCTAssertEqual(($0 as? ZMQError)?.code, EINVAL) }
    }

    func testBadEndpointsThrow() throws {
        let socket = try makeSocket(.router)
        XCTAssertThrowsError(try socket.bind("bogus://nowhere")) { error in
            XCTAssertEqual((error as? ZMQError)?.function, "zmq_bind")
            XCTAssertEqual((error as? ZMQError)?.code, EPROTONOSUPPORT)
        }
        XCTAssertThrowsError(try socket.connect("tcp://")) {
            XCTAssertEqual(($0 as? ZMQError)?.function, "zmq_connect")
        }
        XCTAssertThrowsError(try socket.disconnect("tcp://127.0.0.1:1")) {
            XCTAssertEqual(($0 as? ZMQError)?.code, ENOENT)
        }
    }

    func testBindTwiceIsAddressInUse() throws {
        let (first, endpoint) = try makeBound(.pull)
        let other = try makeSocket(.pull)
        XCTAssertThrowsError(try other.bind(endpoint)) { XCTAssertEqual(($0 as? ZMQError)?.isAddressInUse, true) }
        XCTAssertFalse(first.isClosed)
    }

    func testReqOutOfTurnIsInvalidState() throws {
        let req = try makeSocket(.req)
        try req.connect("tcp://127.0.0.1:1")
        XCTAssertThrowsError(try req.receive(dontWait: true)) {
            XCTAssertEqual(($0 as? ZMQError)?.isInvalidState, true, "\($0)")
        }
    }

    func testErrorDescription() {
        let error = ZMQError(code: EHOSTUNREACH, function: "zmq_send")
        XCTAssertEqual(error.description, "zmq_send: Host unreachable (errno \(EHOSTUNREACH))")
        XCTAssertEqual(error, ZMQError(code: EHOSTUNREACH, function: "zmq_send"))
        XCTAssertNotEqual(error, ZMQError(code: EHOSTUNREACH, function: "zmq_recv"))
    }

    func testCloseTwiceIsHarmless() throws {
        let socket = try makeSocket(.dealer)
        try socket.connect("tcp://127.0.0.1:1")
        XCTAssertFalse(socket.isClosed)
        socket.close()
        XCTAssertTrue(socket.isClosed)
        socket.close()
        XCTAssertTrue(socket.isClosed)
    }

    func testSocketKeepsContextAlive() throws {
        weak var weakContext: ZMQContext?
        var socket: ZMQSocket?
        do {
            let local = try ZMQContext()
            weakContext = local
            socket = try ZMQSocket(context: local, type: .pair)
            try socket?.setLinger(0)
        }
        XCTAssertNotNil(weakContext)
        socket = nil
        XCTAssertNil(weakContext)
    }

    func testZMQCallRetriesEINTRAndMapsEAGAIN() throws {
        var calls = 0
        let result = try zmqCall("fake") {
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        XCTAssertEqual(result, 42)
        XCTAssertEqual(calls, 3)
        XCTAssertNil(
            try zmqCall("fake") {
                errno = EAGAIN
                return -1
            })
        XCTAssertThrowsError(
            try zmqCall("fake") {
                errno = EPERM
                return -1
            }
        ) {
            XCTAssertEqual($0 as? ZMQError, ZMQError(code: EPERM, function: "fake"))
        }
    }
}
